"""The units of work of stage one: what one worker reads, encodes and writes whole.

A unit is a plain dict, so that it travels to Beam workers as it is. It is either the rows of one
shard, held in memory (IMDB, tfds, one table file or rows from memory: the driver reads those), or
one slice of a corpus file (a worker reads it, data/sources/corpus.py). Both name the shards they
write: one per split their rows fall in. `encode_unit` encodes all of a unit's texts in one batched
featurizer pass and writes each shard whole, so no feature ever leaves the worker but in a shard.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ...common import storage
from ...common.errors import BadInput
from ...data.sources.corpus import Corpus, read_slice
from ..cache.manifest import shard_name
from ..cache.shards import Segments, feature_arrays, segment_arrays, write_shard
from ..features.lexical import lexical_features


@dataclasses.dataclass(frozen=True)
class Shard:
    split: str
    index: int
    count: int  # shards in the split
    rows: int

    @property
    def name(self) -> str:
        return shard_name(self.split, self.index, self.count)


def shards_of(unit: dict) -> list[Shard]:
    return [Shard(*s) for s in unit["shards"]]


def rows_of(unit: dict) -> int:
    return sum(s.rows for s in shards_of(unit))


def units_of_reviews(reviews: dict, shard_size: int) -> list[dict]:
    """Each split's reviews in shards of shard_size, in the seeded order: one unit per shard."""
    units = []
    for split, r in reviews.items():
        count = max(1, -(-len(r) // shard_size))
        for i in range(count):
            lo, hi = i * shard_size, min(len(r), (i + 1) * shard_size)
            units.append({"shards": [[split, i, count, hi - lo]],
                          "rows": {split: [r.ids[lo:hi], r.texts[lo:hi], r.labels[lo:hi].tolist()]}})
    return units


def units_of_corpus(corpus: Corpus, text_field: str, label_field: str, split_ratio: float, seed: int) -> list[dict]:
    """One unit per slice; a split's shards are numbered in slice order, over the slices holding it."""
    splits = corpus.splits()
    count = {s: sum(1 for take in corpus.take if take.get(s)) for s in splits}
    index = dict.fromkeys(splits, 0)
    units = []
    for piece, take in zip(corpus.slices, corpus.take):
        shards = []
        for split in splits:
            if take.get(split):
                shards.append([split, index[split], count[split], take[split]])
                index[split] += 1
        if shards:
            units.append({"shards": shards, "slice": piece.to_dict(), "fields": [text_field, label_field],
                          "split_ratio": split_ratio, "seed": seed, "classes": list(corpus.classes),
                          "index": corpus.index})
    return units


def shard_attrs(split: str, index: int, count: int, fingerprint: str) -> dict:
    """What every shard file says about itself; the fingerprint ties it to its manifest."""
    return {"split": split, "index": index, "of": count, "fingerprint": fingerprint}


def read_unit(unit: dict) -> dict[str, tuple[list, list, np.ndarray]]:
    """{split: (ids, texts, labels)} of a unit, in its shards' order."""
    if "rows" in unit:
        return {split: (ids, texts, np.asarray(labels, np.int8))
                for split, (ids, texts, labels) in unit["rows"].items()}
    shards = shards_of(unit)
    parts = read_slice(unit["slice"], tuple(unit["fields"]), unit["split_ratio"], unit["seed"],
                       {s.split: s.rows for s in shards})
    rows = {}
    for s in shards:
        ids, texts, labels = parts[s.split]
        if len(ids) != s.rows:
            raise BadInput(f"{unit['slice']['path']}: changed since extract planned its shards ({len(ids)} "
                           f"{s.split} rows where there were {s.rows}); restore it, or run the command again "
                           "with --overwrite")
        rows[s.split] = (ids, texts, np.asarray([unit["index"][label] for label in labels], np.int8))
    return rows


def encode_unit(unit: dict, featurizer, out: str, fingerprint: str, progress=None) -> list[dict]:
    """Encode a unit and write its shards. Returns each shard's manifest entry (file, count, sha256).
    progress(done): called between batches with the reviews of this unit encoded so far."""
    shards = shards_of(unit)
    rows = read_unit(unit)
    texts = [t for s in shards for t in rows[s.split][1]]
    total = len(texts)
    settings = featurizer.settings
    values, lengths = featurizer.tokenize(texts)
    pooled, stored = featurizer.features_and_segments(values, lengths,
                                                      (lambda frac: progress(frac * total)) if progress else None)
    per_segment = Segments(*stored) if stored is not None else None
    entries, lo = [], 0
    for s in shards:
        ids, part_texts, labels = rows[s.split]
        hi = lo + len(ids)
        lexical = lexical_features(part_texts, settings.ngrams) if settings.ngrams else None
        features = feature_arrays({p: v[lo:hi] for p, v in pooled.items()}, settings)
        segments = segment_arrays(per_segment.take(np.arange(lo, hi)), settings) if per_segment else None
        digest = write_shard(storage.join(out, s.name), features, labels, ids,
                             shard_attrs(s.split, s.index, s.count, fingerprint), lexical, segments)
        entries.append({"file": s.name, "count": s.rows, "sha256": digest})
        lo = hi
    return entries
