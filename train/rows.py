"""The rows a model trains or is scored on, read from the cache shard by shard: memory holds a shard
and a shuffle buffer, never a split. Validation rows carved from train are chosen by a seeded hash
of each review's id, stratified by label, so the choice needs no features and does not depend on
how the split is sharded or ordered.
"""
from __future__ import annotations

import dataclasses
import queue
import threading
from typing import Callable, Iterator

import numpy as np

from ..common.digest import id_hashes
from ..extract.cache.read import SplitReader

# Rows gathered (from several shards) and shuffled together before they are fed in batches: about
# this many bytes of one row's float32 inputs times the rows. Part of what a model dir records.
SHUFFLE_BYTES = 64 * 2**20


@dataclasses.dataclass(frozen=True)
class Part:
    """Some rows of one split: a mask per shard (None: all of its rows), and their labels."""
    reader: SplitReader
    masks: tuple[np.ndarray | None, ...]
    labels: tuple[np.ndarray, ...]  # the kept rows' labels, per shard


@dataclasses.dataclass(frozen=True)
class Rows:
    """Rows of one or more splits, read shard by shard."""
    parts: tuple[Part, ...]

    def __len__(self) -> int:
        return sum(len(y) for part in self.parts for y in part.labels)

    def labels(self) -> np.ndarray:
        """The rows' labels, in reading order (shard order, as chunks() without a seed gives them)."""
        found = [y for part in self.parts for y in part.labels]
        return np.concatenate(found) if found else np.zeros(0, np.int8)

    def ids(self) -> list[str]:
        """The rows' review ids, in reading order (a pass over labels and ids only)."""
        found = []
        for part in self.parts:
            for mask, chunk in zip(part.masks, part.reader.chunks(verify=False, features=False)):
                found += chunk.ids if mask is None else [i for i, keep in zip(chunk.ids, mask) if keep]
        return found

    def __add__(self, other: "Rows") -> "Rows":
        return Rows(self.parts + other.parts)

    def chunks(self, seed: int | None = None, features: bool = True) -> Iterator[tuple[dict, np.ndarray]]:
        """(features, labels) of each shard's rows: in shard order, or in a seeded order of shards.
        Shards are checksummed on the first pass of a Rows' reader (see every()), not again."""
        order = [(p, i) for p, part in enumerate(self.parts) for i in range(len(part.masks))]
        if seed is not None:
            order = [order[k] for k in np.random.default_rng(seed).permutation(len(order))]
        for p, i in order:
            part = self.parts[p]
            if not len(part.labels[i]):
                continue
            chunk = next(part.reader.chunks([i], verify=False, features=features))
            mask = part.masks[i]
            yield (chunk.features if mask is None else take(chunk.features, np.flatnonzero(mask))), part.labels[i]

    def shuffled(self, transform: Callable, row_bytes: int, batch_size: int, seed: int,
                 features: bool = True) -> Iterator[tuple]:
        """(inputs, labels) in buffers of whole batches, shuffled: shards in a seeded order, then rows
        within a buffer of about SHUFFLE_BYTES. transform(features) gives a chunk's inputs (an array,
        Ngrams or Windows); row_bytes, one row's, or None: measured on the first chunk. The last
        buffer may end in a part batch. Read ahead in a thread, so that reading the next shards
        overlaps the training on this buffer. features=False: n-grams only."""
        rng = np.random.default_rng(seed)

        def buffer_rows(size: float) -> int:
            return max(1, int(SHUFFLE_BYTES // max(1.0, size)) // batch_size) * batch_size

        rows = None if row_bytes is None else buffer_rows(row_bytes)

        def buffers():
            nonlocal rows
            held, labels, n = [], [], 0
            for found, y in self.chunks(seed=int(rng.integers(2**31)), features=features):
                held.append(transform(found))
                labels.append(y)
                if rows is None:
                    rows = buffer_rows(held[-1].nbytes / max(1, len(y)))
                n += len(y)
                while n >= rows:
                    inputs, y_all = concatenate(held), np.concatenate(labels)
                    order = rng.permutation(n)
                    yield pick(inputs, order[:rows]), y_all[order[:rows]]
                    held, labels, n = [pick(inputs, order[rows:])], [y_all[order[rows:]]], n - rows
            if n:
                inputs, y_all = concatenate(held), np.concatenate(labels)
                order = rng.permutation(n)
                yield pick(inputs, order), y_all[order]

        return read_ahead(buffers())


def take(features: dict, rows) -> dict:
    """The rows of cached features: every pooling's array, and the n-grams when there are any."""
    return {k: pick(v, rows) for k, v in features.items()}


def pick(values, rows):
    """Rows of an array, or reviews of a ragged store (Ngrams, Segments, inputs.Windows: each has take)."""
    return values[rows] if isinstance(values, np.ndarray) else values.take(rows)


def concatenate(parts: list):
    return np.concatenate(parts) if isinstance(parts[0], np.ndarray) else type(parts[0]).concatenate(parts)


def every(reader: SplitReader) -> Rows:
    """Every row of a split; its shards are checksummed here, once (labels and ids are read)."""
    labels = [chunk.labels for chunk in reader.chunks(features=False)]
    return Rows((Part(reader, tuple(None for _ in labels), tuple(labels)),))


def carve(reader: SplitReader, fraction: float, seed: int) -> tuple[Rows, Rows]:
    """(training, validation) rows of one split: in each label, the `fraction` of its rows with the
    smallest id hashes is validation. Its shards are checksummed here, once."""
    labels, hashes = [], []
    for chunk in reader.chunks(features=False):
        labels.append(chunk.labels)
        hashes.append(id_hashes(chunk.ids, seed))
    y_all = np.concatenate(labels) if labels else np.zeros(0, np.int8)
    h_all = np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)
    held = held_out(y_all, h_all, fraction)
    bounds = np.cumsum([0] + [len(y) for y in labels])
    masks = [held[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]
    train = Part(reader, tuple(~m for m in masks), tuple(y[~m] for y, m in zip(labels, masks)))
    validation = Part(reader, tuple(masks), tuple(y[m] for y, m in zip(labels, masks)))
    return Rows((train,)), Rows((validation,))


def held_out(labels: np.ndarray, hashes: np.ndarray, fraction: float) -> np.ndarray:
    """carve's rule, one bool per row: in each label, the `fraction` of its rows with the smallest
    id hashes."""
    held = np.zeros(len(labels), bool)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        k = int(round(len(rows) * fraction))
        if k:
            held[rows[np.argsort(hashes[rows], kind="stable")[:k]]] = True
    return held


def restrict(r: Rows, keep: np.ndarray) -> Rows:
    """The rows of r where keep (one bool per row, in reading order) is set."""
    parts, at = [], 0
    for part in r.parts:
        masks, labels = [], []
        for mask, y in zip(part.masks, part.labels):
            kept = np.asarray(keep[at:at + len(y)], bool)
            at += len(y)
            shard = np.ones(len(y), bool) if mask is None else mask.copy()
            shard[np.flatnonzero(shard)] = kept
            masks.append(shard)
            labels.append(y[kept])
        parts.append(Part(part.reader, tuple(masks), tuple(labels)))
    return Rows(tuple(parts))


def folds(r: Rows, k: int, seed: int) -> np.ndarray:
    """Each row's fold (0 .. k - 1, in reading order): within each label, rows in a seeded order
    dealt out in turn, so every fold holds each label's share."""
    y = r.labels()
    fold = np.zeros(len(y), np.int64)
    rng = np.random.default_rng(seed)
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        fold[rows[rng.permutation(len(rows))]] = np.arange(len(rows)) % k
    return fold


def sample(r: Rows, seed: int, per_label: int | None = None, total: int | None = None) -> Rows:
    """A seeded sample of r, stratified by label: per_label rows of each label (all of a label with
    fewer), or about total rows with each label's share kept. Nothing is read but the labels."""
    y = r.labels()
    if (per_label is None) == (total is None):
        raise ValueError("sample: give per_label or total")
    if total is not None and total >= len(y):
        return r
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(y), bool)
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        k = per_label if per_label is not None else int(round(len(rows) * total / len(y)))
        keep[rows[rng.permutation(len(rows))[:max(0, min(k, len(rows)))]]] = True
    return restrict(r, keep)


_DONE = object()


def read_ahead(items: Iterator, depth: int = 1) -> Iterator:
    """The items of an iterator, produced one ahead in a thread. An error there is raised here."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item) -> bool:
        """Hand one item over, unless the consumer has gone: a producer never waits for no one."""
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in items:
                if not offer(item):
                    return
            offer(_DONE)
        except BaseException as e:  # noqa: B902  handed to the consumer, raised there
            offer(e)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
