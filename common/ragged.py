"""Items stored row after row (a review's windows, tokens or n-grams), with a count per row."""
from __future__ import annotations

import numpy as np


def ragged_positions(counts: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Where the items of rows `rows` sit in values stored row after row (counts per row), in the
    order of `rows`."""
    starts = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])[:-1]
    picked = counts[rows]
    offsets = np.repeat(starts[rows] - (np.cumsum(picked, dtype=np.int64) - picked), picked)
    return np.arange(int(picked.sum()), dtype=np.int64) + offsets
