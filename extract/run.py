"""The `extract` command: read a dataset, encode it once, write the feature cache shard by shard.

A cache folder is resumable: finished shards whose checksum matches the manifest are kept, so
running the same command again after an interruption redoes only what is missing.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import tensorflow as tf

from data.errors import BadInput
from data.sources import TableOptions, describe, read_source
from extract import cache, encoders
from extract.features import FeatureSettings, Featurizer
from extract.progress import Progress
from extract.provenance import command_line, machine, now, versions

SHARD_SIZE = 4000
ORDER_SEED = 0
LOCK = ".lock"


def fingerprint(fields: dict) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def _differences(old: dict, new: dict) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [k for k in keys if old.get(k) != new.get(k)]


@contextlib.contextmanager
def cache_lock(out: Path):
    """Hold an exclusive lock on the cache folder for the whole extraction.

    flock is released by the kernel when its holder dies, so a lock left by a killed extract is
    stale by construction and simply taken over.
    """
    path = out / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise BadInput(f"--out {out}: another extract (pid {holder}) is writing this cache; wait for it "
                           "to finish or stop it, then run this command again")
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def _entries(out: Path) -> list[Path]:
    """What a cache folder holds, leaving out our lock and temporary files."""
    return [p for p in out.iterdir() if p.name != LOCK and ".tmp-" not in p.name]


def _prepare_out(out: Path, fields: dict, overwrite: bool) -> tuple[dict | None, dict | None]:
    """Check --out before any expensive work.

    Returns (manifest to resume into, manifest of a cache to replace); either may be None.
    """
    if not _entries(out):
        return None, None
    if not (out / cache.MANIFEST).exists():
        raise BadInput(f"--out {out}: folder is not empty and holds no feature cache; "
                       "choose a new or empty folder (nothing there was touched)")
    manifest = cache.read_manifest(out)
    old = manifest.get("fingerprint_fields", {})
    if old == fields:
        return manifest, None
    if not overwrite:
        raise BadInput(f"--out {out}: holds a cache made with other settings "
                       f"({', '.join(_differences(old, fields))} differ); pass --overwrite to replace it, "
                       "or choose another --out")
    return None, manifest


def _remove_cache_files(out: Path, manifest: dict) -> None:
    """Delete the shards and manifest a cache lists, and nothing else in the folder."""
    for entry in manifest.get("splits", {}).values():
        for shard in entry.get("shards", []):
            (out / shard["file"]).unlink(missing_ok=True)
    (out / cache.MANIFEST).unlink(missing_ok=True)


def run_extract(data: str, out: Path, encoder: str, preprocessor: str, splits: list[str],
                settings: FeatureSettings, batch_size: int = 32, limit: int | None = None,
                overwrite: bool = False, shard_size: int = SHARD_SIZE,
                table: TableOptions = TableOptions()) -> dict:
    out = Path(out)
    settings.validate()
    if limit is not None and limit < 1:
        raise BadInput(f"--limit {limit}: must be at least 1")
    if batch_size < 1:
        raise BadInput(f"--batch-size {batch_size}: must be at least 1")
    if shard_size < 1:
        raise BadInput(f"--shard-size {shard_size}: must be at least 1")
    source = describe(data, table)
    fields = {
        "encoder": encoders.identity(encoder), "preprocessor": encoders.identity(preprocessor),
        "settings": settings.to_dict(), "data": source, "limit": limit, "order_seed": ORDER_SEED,
        "shard_size": shard_size,
    }
    reviews = read_source(data, splits, seed=ORDER_SEED, limit=limit, table=table)
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out}: is a file, not a folder; choose a folder for the cache")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadInput(f"--out {out}: cannot create the folder ({e.strerror or e}); choose a folder you can write")
    try:
        with cache_lock(out):
            return _extract_locked(out, fields, overwrite, reviews, encoder, preprocessor, splits, settings,
                                   batch_size, shard_size)
    except BadInput:
        if created and not _entries(out):
            shutil.rmtree(out, ignore_errors=True)  # leave no trace of a run that wrote nothing
        raise
    except OSError as e:
        where = e.filename or out
        raise BadInput(f"{where}: cannot write ({e.strerror or e}); free disk space or choose another --out, "
                       "then run the same command again (finished shards are kept)")


def _extract_locked(out, fields, overwrite, reviews, encoder, preprocessor, splits, settings, batch_size,
                    shard_size) -> dict:
    existing, replaced = _prepare_out(out, fields, overwrite)
    featurizer = Featurizer(encoders.load(preprocessor, "--preprocessor"), encoders.load(encoder, "--encoder"),
                            settings, batch_size=batch_size)
    # Only now, with the models loaded, is the old cache given up; temporary files of a killed run go too.
    if replaced:
        _remove_cache_files(out, replaced)
    for leftover in out.glob(".*.tmp-*"):
        leftover.unlink()
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    dim = featurizer.num_layers * featurizer.hidden_size
    manifest = existing or {
        "format": cache.FORMAT, "format_version": cache.FORMAT_VERSION,
        "fingerprint": fingerprint(fields), "fingerprint_fields": fields,
        "features": {
            "encoder": fields["encoder"]["handle"], "preprocessor": fields["preprocessor"]["handle"],
            **settings.to_dict(), "num_layers": featurizer.num_layers, "hidden_size": featurizer.hidden_size,
            "dim": dim, "layout": "layer-major: columns [l*hidden_size, (l+1)*hidden_size) are layer l",
            "datasets": {p: cache.dataset_name(p, settings.poolings[0]) for p in settings.poolings},
        },
        "data": fields["data"], "splits": {}, "created": now(),
    }
    manifest.update(versions=versions(), command=command_line(), machine={**machine(), "device": device})

    summary = {"cache": str(out), "device": device, "dim": dim, "splits": {}}
    for split in splits:
        summary["splits"][split] = _extract_split(out, split, reviews[split], featurizer, manifest, shard_size)
    return summary


def _extract_split(out, split, reviews, featurizer, manifest, shard_size) -> dict:
    n = len(reviews)
    count = max(1, -(-n // shard_size))
    entry = manifest["splits"].get(split)
    if entry and entry.get("complete") and all(
            (out / s["file"]).exists() and cache.sha256_file(out / s["file"]) == s["sha256"]
            for s in entry["shards"]):
        return {**entry["counts"], "shards": count, "seconds": 0.0, "reviews_per_s": None, "skipped": True}
    kept = {s["file"]: s for s in (entry or {}).get("shards", [])}
    entry = {"counts": reviews.counts(), "shards": [], "complete": False}
    manifest["splits"][split] = entry
    cache.write_manifest(out, manifest)

    progress = Progress(f"extract {split}", n)
    encoded = 0
    start = time.perf_counter()
    for i in range(count):
        name = cache.shard_name(split, i, count)
        lo, hi = i * shard_size, min(n, (i + 1) * shard_size)
        old = kept.get(name)
        if old and (out / name).exists() and cache.sha256_file(out / name) == old["sha256"]:
            entry["shards"].append(old)  # finished before an interruption: keep it
            progress.update(hi)
            continue
        pooled = featurizer.features(reviews.texts[lo:hi],
                                     progress=lambda frac: progress.update(lo + frac * (hi - lo)))
        first = featurizer.settings.poolings[0]
        arrays = {cache.dataset_name(p, first): v.reshape(len(v), -1) for p, v in pooled.items()}
        digest = cache.write_shard(out / name, arrays, reviews.labels[lo:hi], reviews.ids[lo:hi],
                                   {"split": split, "index": i, "of": count,
                                    "fingerprint": manifest["fingerprint"]})
        entry["shards"].append({"file": name, "count": hi - lo, "sha256": digest})
        cache.write_manifest(out, manifest)
        encoded += hi - lo
        progress.update(hi)
    progress.finish()
    seconds = time.perf_counter() - start
    entry["complete"] = True
    entry["seconds"] = round(seconds, 2)
    cache.write_manifest(out, manifest)
    return {**entry["counts"], "shards": count, "seconds": round(seconds, 2),
            "reviews_per_s": round(encoded / seconds, 2) if encoded and seconds > 0 else None, "skipped": False}
