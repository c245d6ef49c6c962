"""The in-memory form every source produces: one split's reviews in a fixed, seeded, balanced order."""
from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class Reviews:
    ids: list[str]
    texts: list[str]
    labels: np.ndarray  # int8, 1 = positive
    replaced: int = 0  # reviews that were not valid UTF-8 and were decoded with replacement
    empty: int = 0  # reviews with no text

    def __len__(self) -> int:
        return len(self.ids)

    def counts(self) -> dict[str, int]:
        return {"total": len(self), "pos": int((self.labels == 1).sum()), "neg": int((self.labels == 0).sum()),
                "replaced_utf8": self.replaced, "empty": self.empty}


def decode(raw: bytes) -> tuple[str, bool]:
    """Decode a review; invalid UTF-8 is replaced rather than fatal. Returns (text, was_replaced)."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace"), True


def seeded_order(ids: list[str], texts: list[str], labels: list[int], seed: int = 0,
                 limit: int | None = None, replaced: int = 0) -> Reviews:
    """Shuffle each label with a fixed seed and interleave them, so every prefix is balanced.

    The input order is sorted first, so the result depends only on the reviews and the seed,
    never on the order a file system or archive lists them.
    """
    order = sorted(range(len(ids)), key=lambda i: ids[i])
    labels_arr = np.asarray(labels, np.int8)[order]
    rng = np.random.default_rng(seed)
    per_label = [list(np.asarray(order)[labels_arr == lab][rng.permutation(int((labels_arr == lab).sum()))])
                 for lab in (0, 1)]
    interleaved = []
    for pair in zip(*per_label):
        interleaved.extend(pair)
    shorter = min(len(p) for p in per_label)
    for p in per_label:
        interleaved.extend(p[shorter:])
    if limit is not None:
        interleaved = interleaved[:limit]
    picked_texts = [texts[i] for i in interleaved]
    return Reviews(
        ids=[ids[i] for i in interleaved],
        texts=picked_texts,
        labels=np.asarray([labels[i] for i in interleaved], np.int8),
        replaced=replaced,
        empty=sum(1 for t in picked_texts if not t.strip()),
    )
