"""Reading a cache: one split shard by shard or whole, every shard checked; and `check-cache`, which
checks them all."""
from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Iterator

import numpy as np

from ...common import storage
from ...common.errors import BadInput
from ...data.sources.reviews import label_counts
from ...data.sources.tabular import SPLITS
from .manifest import SEGMENT_COUNTS, dataset_name, label_counts_of, labels_of, read_manifest, segment_dataset_name
from .shards import NGRAM_COUNTS, NGRAM_IDS, Ngrams, Segments, feature_dtype, read_shard


def _split_entry(cache, manifest: dict, split: str) -> dict:
    splits = manifest.get("splits", {})
    if split not in splits:
        have = ", ".join(sorted(splits)) or "none"
        remedy = (f"run extract with --splits {split}" if split in SPLITS else
                  f"splits are named {', '.join(SPLITS)}; choose one the cache has")
        raise BadInput(f"{cache}: the cache has no '{split}' split (it has: {have}); {remedy}")
    entry = splits[split]
    if not entry.get("complete"):
        raise BadInput(f"{cache}: split '{split}' is incomplete (extraction was interrupted); "
                       "run the same extract command again to finish it")
    return entry


def has_ngrams(manifest: dict) -> bool:
    """Whether the cache holds the lexical channel (extract --ngrams)."""
    return bool(manifest["features"].get("ngrams"))


def has_segments(manifest: dict) -> bool:
    """Whether the cache holds per-segment features: every window's (extract --segments) or every
    token's (extract --tokens)."""
    return bool(manifest["features"].get("segment_datasets"))


def segment_names(manifest: dict) -> list[str]:
    """What the cache's per-segment features are named by: a window's poolings, or "token"."""
    return list(manifest["features"].get("segment_datasets", {}))


@dataclasses.dataclass(frozen=True)
class Chunk:
    """One shard's rows: {pooling: [n, layers*hidden] as stored} (and "ngrams", an Ngrams, when
    read with lexical; "segments", a Segments of the same poolings, or of "token", when read with
    segments), labels int8 [n], ids."""
    features: dict
    labels: np.ndarray
    ids: list[str]


@dataclasses.dataclass(frozen=True)
class SplitReader:
    """One complete split of a cache, read shard by shard: memory holds one shard at a time. poolings:
    those stored per review, or with segments those stored per segment ("token" for --tokens)."""
    cache: str
    split: str
    manifest: dict
    poolings: tuple[str, ...]
    lexical: bool
    segments: bool = False

    @property
    def shards(self) -> list[dict]:
        return self.manifest["splits"][self.split]["shards"]

    def __len__(self) -> int:
        return sum(s["count"] for s in self.shards)

    def chunks(self, order=None, verify: bool = True, features: bool = True) -> Iterator[Chunk]:
        """Each shard's rows, in shard order or in `order` (shard indices). verify=False: a pass after
        the first, which skips the checksums (extract/cache/shards.py). features=False: labels, ids
        and n-grams only."""
        stored = self.manifest["features"]["poolings"]
        per_review = [p for p in self.poolings if p in stored] if features else []
        names = [dataset_name(p, stored[0]) for p in per_review]
        per_segment = [p for p in self.poolings if p in segment_names(self.manifest)] if self.segments else []
        seg_names = [segment_dataset_name(p) for p in per_segment] if features else []
        shards = self.shards
        for i in (range(len(shards)) if order is None else order):
            arrays, labels, ids = read_shard(self.cache, shards[i], self.manifest, names, self.lexical, verify,
                                             seg_names)
            found = {p: arrays[name] for p, name in zip(per_review, names)}
            if self.lexical:
                found["ngrams"] = Ngrams(arrays[NGRAM_IDS], arrays[NGRAM_COUNTS])
            if seg_names:
                found["segments"] = Segments({p: arrays[name] for p, name in zip(per_segment, seg_names)},
                                             arrays[SEGMENT_COUNTS])
            yield Chunk(found, labels, ids)


def open_split(cache, split: str, poolings: list[str] | None = None, lexical: bool = False,
               manifest: dict | None = None, segments: bool = False) -> SplitReader:
    """A complete split to read shard by shard, its poolings (default: the cache's first),
    n-grams and per-segment features checked against the manifest. With segments, poolings may
    name what the cache stores per segment only ("token" for --tokens)."""
    manifest = manifest or read_manifest(cache)
    _split_entry(cache, manifest, split)
    if segments and not has_segments(manifest):
        raise BadInput(f"{cache}: the cache holds no per-segment features; extract it again with --windows "
                       "--segments, or --tokens (add --overwrite to replace it)")
    stored = manifest["features"]["poolings"]
    poolings = poolings or stored[:1]
    for p in poolings:
        if p in stored or (segments and p in segment_names(manifest)):
            continue
        if segments:
            raise BadInput(f"{cache}: the cache holds per-segment {', '.join(segment_names(manifest))} features, "
                           f"not {p}; extract it again as the model's training cache was (--windows --segments "
                           "--pooling, or --tokens)")
        raise BadInput(f"--pooling {p}: the cache at {cache} holds {', '.join(stored)}; "
                       f"extract again with --pooling {p}")
    if lexical and not has_ngrams(manifest):
        raise BadInput(f"{cache}: the cache has no lexical channel; extract it again with --ngrams 3 (add "
                       "--overwrite to replace it) to train a lexical or fused model")
    return SplitReader(str(cache), split, manifest, tuple(poolings), lexical, segments)


def read_split(cache, split: str, poolings: list[str] | None = None, lexical: bool = False,
               segments: bool = False):
    """Load one split whole: ({pooling: [n, layers*hidden] as stored}, labels int8 [n], ids, manifest).
    With lexical, the dict also holds "ngrams": the reviews' n-gram ids (Ngrams).

    Every shard is checked against the manifest, so a truncated, corrupted, missing or foreign
    shard is refused with its name rather than silently used.
    """
    reader = open_split(cache, split, poolings, lexical, segments=segments)
    chunks = list(reader.chunks())
    dim, dtype = reader.manifest["features"]["dim"], feature_dtype(reader.manifest)
    stored = reader.manifest["features"]["poolings"]
    features = {p: np.concatenate([c.features[p] for c in chunks]) if chunks else np.zeros((0, dim), dtype)
                for p in reader.poolings if p in stored}
    if lexical:
        features["ngrams"] = Ngrams.concatenate([c.features["ngrams"] for c in chunks])
    if segments and chunks:
        features["segments"] = Segments.concatenate([c.features["segments"] for c in chunks])
    labels = np.concatenate([c.labels for c in chunks]) if chunks else np.zeros(0, np.int8)
    return features, labels, [i for c in chunks for i in c.ids], reader.manifest


def check_cache(cache) -> list[dict]:
    """Verify every shard of every split. Returns one summary per split; 'problem' is None when sound."""
    manifest = read_manifest(cache)
    names = list(manifest["features"]["datasets"].values())
    segment_names = list(manifest["features"].get("segment_datasets", {}).values())
    classes = labels_of(manifest)
    report = []
    for split in manifest.get("splits", {}):
        row = {"split": split, "shards": 0, "reviews": 0, "labels": {name: 0 for name in classes}, "problem": None}
        try:
            entry = _split_entry(cache, manifest, split)
            seen: set[str] = set()
            for shard in entry["shards"]:
                _, labels, ids = read_shard(cache, shard, manifest, names, has_ngrams(manifest),
                                            segment_names=segment_names)
                duplicate = sorted(i for i, c in Counter(ids).items() if c > 1) or sorted(seen.intersection(ids))
                if duplicate:
                    raise BadInput(f"{storage.join(cache, shard['file'])}: duplicate review id '{duplicate[0]}'")
                if len(labels) and not 0 <= labels.min() <= labels.max() < len(classes):
                    raise BadInput(f"{storage.join(cache, shard['file'])}: a label is not one of the cache's "
                                   f"{len(classes)} classes; run the same extract command again to rebuild it")
                seen.update(ids)
                row["shards"] += 1
                row["reviews"] += len(labels)
                for name, n in label_counts(labels, classes).items():
                    row["labels"][name] += n
            counts = entry["counts"]
            expected = label_counts_of(counts)
            if (row["reviews"], row["labels"]) != (counts["total"], expected):
                raise BadInput(f"{cache}: split '{split}' holds {row['reviews']} reviews "
                               f"({_per_class(row['labels'])}), "
                               f"the manifest says {counts['total']} ({_per_class(expected)})")
        except BadInput as e:
            row["problem"] = str(e)
        report.append(row)
    return report


def _per_class(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in counts.items())
