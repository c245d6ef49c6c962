"""Which shards a run writes, which of them are finished and sound, and which units are still to encode."""
from __future__ import annotations

import dataclasses

from ...common import storage
from ..cache.manifest import sha256_file
from ..cache.shards import written_shard
from .units import shards_of


@dataclasses.dataclass
class SplitPlan:
    """A split's shards: those finished (kept in entry) and the reviews still to encode."""
    split: str
    count: int  # shards
    entry: dict
    todo_rows: int = 0
    seconds: float = 0.0


def plan_units(out: str, units: list[dict], counts: dict[str, dict], manifest: dict) -> tuple[list[SplitPlan], list]:
    """(a plan per split, the units still to encode). A shard is finished when the manifest lists it
    and its file has the listed checksum, or when its file is there, whole, written for this cache
    (its fingerprint, split, index and rows): what the workers of a pipeline that failed wrote."""
    olds = {split: manifest["splits"].get(split) or {} for split in counts}
    plans = {split: SplitPlan(split, 0, {"counts": counts[split], "shards": [], "complete": False}) for split in counts}
    listed = {split: {s["file"]: s for s in (old.get("shards") or [])} for split, old in olds.items()}
    todo = []
    for unit in units:
        missing = False
        for shard in shards_of(unit):
            plan = plans[shard.split]
            plan.count = shard.count
            found = finished_shard(out, shard, listed[shard.split].get(shard.name), manifest["fingerprint"])
            if found:
                plan.entry["shards"].append(found)
            else:
                missing = True
        if missing:
            todo.append(unit)
            for shard in shards_of(unit):
                plans[shard.split].todo_rows += shard.rows
                plans[shard.split].entry["shards"] = [s for s in plans[shard.split].entry["shards"]
                                                      if s["file"] != shard.name]
    for plan in plans.values():
        if not plan.todo_rows and olds[plan.split].get("complete"):
            plan.entry = olds[plan.split]
        manifest["splits"][plan.split] = plan.entry
    return list(plans.values()), todo


def finished_shard(out: str, shard, listed: dict | None, fingerprint: str) -> dict | None:
    path = storage.join(out, shard.name)
    if listed and storage.exists(path) and sha256_file(path) == listed["sha256"]:
        return listed
    written = written_shard(path)
    if written:
        attrs, rows, digest = written
        if (attrs.get("fingerprint"), attrs.get("split"), int(attrs.get("index", -1)), int(attrs.get("of", -1)),
                rows) == (fingerprint, shard.split, shard.index, shard.count, shard.rows):
            return {"file": shard.name, "count": rows, "sha256": digest}
    return None

