"""Which shards a split has, which of them are finished and sound, and which are still to encode."""
from __future__ import annotations

import dataclasses

from ...common import storage
from ..cache.manifest import sha256_file, shard_name


@dataclasses.dataclass
class SplitPlan:
    """Which shards of a split exist already (kept in entry) and which are still to encode."""
    split: str
    n: int
    count: int
    shard_size: int
    entry: dict
    todo: list[int]
    seconds: float = 0.0

    def bounds(self, i: int) -> tuple[int, int]:
        return i * self.shard_size, min(self.n, (i + 1) * self.shard_size)


def plan_split(out, split, reviews, manifest, shard_size) -> SplitPlan:
    """Keep every listed shard whose file is there with the listed checksum; plan the rest."""
    n = len(reviews)
    count = max(1, -(-n // shard_size))
    old = manifest["splits"].get(split) or {}
    kept = {s["file"]: s for s in old.get("shards", [])}
    entry = {"counts": reviews.counts(), "shards": [], "complete": False}
    todo = []
    for i in range(count):
        name = shard_name(split, i, count)
        shard = kept.get(name)
        path = storage.join(out, name)
        if shard and storage.exists(path) and sha256_file(path) == shard["sha256"]:
            entry["shards"].append(shard)  # finished before: keep it
        else:
            todo.append(i)
    if not todo and old.get("complete"):
        entry = old
    manifest["splits"][split] = entry
    return SplitPlan(split, n, count, shard_size, entry, todo)


def shard_attrs(split: str, index: int, count: int, fingerprint: str) -> dict:
    """What every shard file says about itself; the fingerprint ties it to its manifest."""
    return {"split": split, "index": index, "of": count, "fingerprint": fingerprint}
