"""Reading a cache: one split whole, every shard checked; and `check-cache`, which checks them all."""
from __future__ import annotations

from collections import Counter

import numpy as np

from ...data import storage
from ...data.errors import BadInput
from .manifest import dataset_name, read_manifest
from .shards import read_shard


def _split_entry(cache, manifest: dict, split: str) -> dict:
    splits = manifest.get("splits", {})
    if split not in splits:
        have = ", ".join(sorted(splits)) or "none"
        raise BadInput(f"{cache}: the cache has no '{split}' split (it has: {have}); "
                       f"run extract with --splits {split}")
    entry = splits[split]
    if not entry.get("complete"):
        raise BadInput(f"{cache}: split '{split}' is incomplete (extraction was interrupted); "
                       "run the same extract command again to finish it")
    return entry


def read_split(cache, split: str, poolings: list[str] | None = None):
    """Load one split whole: ({pooling: float32 [n, layers*hidden]}, labels int8 [n], ids, manifest).

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
    names = [dataset_name(p, stored[0]) for p in poolings]
    parts = {p: [] for p in poolings}
    labels, ids = [], []
    for shard in entry["shards"]:
        arrays, shard_labels, shard_ids = read_shard(cache, shard, manifest, names)
        for p, name in zip(poolings, names):
            parts[p].append(arrays[name])
        labels.append(shard_labels)
        ids.extend(shard_ids)
    dim = manifest["features"]["dim"]
    features = {p: np.concatenate(v) if v else np.zeros((0, dim), np.float32) for p, v in parts.items()}
    return features, (np.concatenate(labels) if labels else np.zeros(0, np.int8)), ids, manifest


def check_cache(cache) -> list[dict]:
    """Verify every shard of every split. Returns one summary per split; 'problem' is None when sound."""
    manifest = read_manifest(cache)
    names = list(manifest["features"]["datasets"].values())
    report = []
    for split in manifest.get("splits", {}):
        row = {"split": split, "shards": 0, "reviews": 0, "pos": 0, "neg": 0, "problem": None}
        try:
            entry = _split_entry(cache, manifest, split)
            seen: set[str] = set()
            for shard in entry["shards"]:
                _, labels, ids = read_shard(cache, shard, manifest, names)
                duplicate = sorted(i for i, c in Counter(ids).items() if c > 1) or sorted(seen.intersection(ids))
                if duplicate:
                    raise BadInput(f"{storage.join(cache, shard['file'])}: duplicate review id '{duplicate[0]}'")
                seen.update(ids)
                row["shards"] += 1
                row["reviews"] += len(labels)
                row["pos"] += int((labels == 1).sum())
                row["neg"] += int((labels == 0).sum())
            counts = entry["counts"]
            if (row["reviews"], row["pos"], row["neg"]) != (counts["total"], counts["pos"], counts["neg"]):
                raise BadInput(f"{cache}: split '{split}' holds {row['reviews']} reviews "
                               f"({row['pos']} pos, {row['neg']} neg), the manifest says {counts['total']} "
                               f"({counts['pos']} pos, {counts['neg']} neg)")
        except BadInput as e:
            row["problem"] = str(e)
        report.append(row)
    return report
