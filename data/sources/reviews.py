"""The in-memory form every source produces: one split's reviews in a fixed, seeded, balanced order."""
from __future__ import annotations

import dataclasses

import numpy as np

IMDB_LABELS = ("neg", "pos")  # the aclImdb folder names, and TFDS's 0 and 1


@dataclasses.dataclass
class Reviews:
    ids: list[str]
    texts: list[str]
    labels: np.ndarray  # int8: the index of each review's class in `classes`
    classes: tuple[str, ...] = IMDB_LABELS
    replaced: int = 0  # reviews that were not valid UTF-8 and were decoded with replacement
    empty: int = 0  # reviews with no text

    def __len__(self) -> int:
        return len(self.ids)

    def counts(self) -> dict:
        return {"total": len(self), "labels": label_counts(self.labels, self.classes),
                "replaced_utf8": self.replaced, "empty": self.empty}


def label_counts(labels: np.ndarray, classes) -> dict[str, int]:
    """Reviews per class, by name, in the classes' order."""
    found = np.bincount(np.asarray(labels, np.int64), minlength=len(classes))
    return {name: int(n) for name, n in zip(classes, found)}


def decode(raw: bytes) -> tuple[str, bool]:
    """Decode a review; invalid UTF-8 is replaced rather than fatal. Returns (text, was_replaced)."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace"), True


def seeded_order(ids: list[str], texts: list[str], labels: list[int], seed: int = 0,
                 limit: int | None = None, replaced: int = 0, classes=IMDB_LABELS) -> Reviews:
    """Shuffle each class with a fixed seed and take them in turn, so every prefix is balanced.

    The input order is sorted first, so the result depends only on the reviews and the seed,
    never on the order a file system or archive lists them.
    """
    order = np.asarray(sorted(range(len(ids)), key=lambda i: ids[i]), np.int64)
    labels_arr = np.asarray(labels, np.int64)[order] if len(order) else np.zeros(0, np.int64)
    rng = np.random.default_rng(seed)
    per_class = [order[labels_arr == c][rng.permutation(int((labels_arr == c).sum()))] for c in range(len(classes))]
    taken = []
    for turn in range(max((len(p) for p in per_class), default=0)):
        taken.extend(int(p[turn]) for p in per_class if turn < len(p))
    if limit is not None:
        taken = taken[:limit]
    picked_texts = [texts[i] for i in taken]
    return Reviews(
        ids=[ids[i] for i in taken],
        texts=picked_texts,
        labels=np.asarray([labels[i] for i in taken], np.int8),
        classes=tuple(classes),
        replaced=replaced,
        empty=sum(1 for t in picked_texts if not t.strip()),
    )
