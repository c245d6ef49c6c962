"""The one stratified split: a seeded share of each label's rows, used for test rows carved from a
CSV/JSONL file and for validation rows carved from a training split."""
from __future__ import annotations

import numpy as np


def stratified_split(labels, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held_out) row indices, both sorted; each label keeps its share in both parts.

    Labels are visited in sorted order and each label's rows permuted by one seeded generator, so
    the same labels, fraction and seed always give the same rows.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    kept, held_out = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for label in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == label))
        n_out = int(round(len(idx) * fraction))
        held_out.append(idx[:n_out])
        kept.append(idx[n_out:])
    return np.sort(np.concatenate(kept)), np.sort(np.concatenate(held_out))
