"""Reading a cache: one split whole, every shard checked; and `check-cache`, which checks them all."""
from __future__ import annotations

from collections import Counter

import numpy as np

from ...common import storage
from ...common.errors import BadInput
from ...data.sources.reviews import label_counts
from ...data.sources.tabular import SPLITS
from .manifest import dataset_name, label_counts_of, labels_of, read_manifest
from .shards import NGRAM_COUNTS, NGRAM_IDS, Ngrams, read_shard


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


def read_split(cache, split: str, poolings: list[str] | None = None, lexical: bool = False):
    """Load one split whole: ({pooling: float32 [n, layers*hidden]}, labels int8 [n], ids, manifest).
    With lexical, the dict also holds "ngrams": the reviews' n-gram ids (Ngrams).

    Every shard is checked against the manifest, so a truncated, corrupted, missing or foreign
    shard is refused with its name rather than silently used.
    """
    manifest = read_manifest(cache)
    entry = _split_entry(cache, manifest, split)
    stored = manifest["features"]["poolings"]
    poolings = poolings or stored[:1]
    for p in poolings:
        if p not in stored:
            raise BadInput(f"--pooling {p}: the cache at {cache} holds {', '.join(stored)}; "
                           f"extract again with --pooling {p}")
    if lexical and not has_ngrams(manifest):
        raise BadInput(f"{cache}: the cache has no lexical channel; extract it again with --ngrams 3 (add "
                       "--overwrite to replace it) to train a lexical or fused model")
    names = [dataset_name(p, stored[0]) for p in poolings]
    parts = {p: [] for p in poolings}
    labels, ids, ngrams = [], [], []
    for shard in entry["shards"]:
        arrays, shard_labels, shard_ids = read_shard(cache, shard, manifest, names, lexical)
        for p, name in zip(poolings, names):
            parts[p].append(arrays[name])
        if lexical:
            ngrams.append(Ngrams(arrays[NGRAM_IDS], arrays[NGRAM_COUNTS]))
        labels.append(shard_labels)
        ids.extend(shard_ids)
    dim = manifest["features"]["dim"]
    features = {p: np.concatenate(v) if v else np.zeros((0, dim), np.float32) for p, v in parts.items()}
    if lexical:
        features["ngrams"] = Ngrams.concatenate(ngrams)
    return features, (np.concatenate(labels) if labels else np.zeros(0, np.int8)), ids, manifest


def check_cache(cache) -> list[dict]:
    """Verify every shard of every split. Returns one summary per split; 'problem' is None when sound."""
    manifest = read_manifest(cache)
    names = list(manifest["features"]["datasets"].values())
    classes = labels_of(manifest)
    report = []
    for split in manifest.get("splits", {}):
        row = {"split": split, "shards": 0, "reviews": 0, "labels": {name: 0 for name in classes}, "problem": None}
        try:
            entry = _split_entry(cache, manifest, split)
            seen: set[str] = set()
            for shard in entry["shards"]:
                _, labels, ids = read_shard(cache, shard, manifest, names, has_ngrams(manifest))
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
                raise BadInput(f"{cache}: split '{split}' holds {row['reviews']} reviews ({_per_class(row['labels'])}), "
                               f"the manifest says {counts['total']} ({_per_class(expected)})")
        except BadInput as e:
            row["problem"] = str(e)
        report.append(row)
    return report


def _per_class(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in counts.items())
