"""The feature cache on disk: HDF5 shards per split plus manifest.json, written atomically, read checked.

Layout of CACHE/:
  manifest.json                      how the features were made, per-split counts, shard checksums
  <split>-00000-of-00007.h5          `features` float32 [n, layers*hidden] (first pooling),
                                     `features_<pooling>` for further poolings, `labels` int8 [n],
                                     `ids` utf-8 strings [n]
Columns are layer-major: columns [l*hidden, (l+1)*hidden) hold layer l.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import h5py
import numpy as np

from data.errors import BadInput

FORMAT = "multilayer-bert-sentiment/feature-cache"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def dataset_name(pooling: str, first: str) -> str:
    return "features" if pooling == first else f"features_{pooling}"


def shard_name(split: str, index: int, count: int) -> str:
    return f"{split}-{index:05d}-of-{count:05d}.h5"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_manifest(cache: Path, manifest: dict) -> None:
    write_atomic_bytes(Path(cache) / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())


def read_manifest(cache: Path) -> dict:
    cache = Path(cache)
    path = cache / MANIFEST
    if not cache.is_dir():
        raise BadInput(f"{cache}: no such cache folder; make one with `python cli.py extract --out {cache}`")
    if not path.exists():
        raise BadInput(f"{cache}: not a feature cache (no {MANIFEST}); make one with `python cli.py extract`")
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, OSError) as e:
        raise BadInput(f"{path}: unreadable manifest ({e}); extract again with --overwrite")
    if manifest.get("format") != FORMAT:
        raise BadInput(f"{path}: not a manifest of this tool (field 'format'); extract again")
    return manifest


def write_shard(path: Path, features: dict[str, np.ndarray], labels: np.ndarray, ids: list[str],
                attrs: dict) -> str:
    """Write one shard under a temporary name, then rename it into place. Returns its sha256."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with h5py.File(tmp, "w", track_order=True) as f:
            for name, values in features.items():
                # No timestamps in the file, so the same features give the same bytes.
                f.create_dataset(name, data=values.astype(np.float32), track_times=False)
            f.create_dataset("labels", data=labels.astype(np.int8), track_times=False)
            f.create_dataset("ids", data=np.array(ids, dtype=object), dtype=h5py.string_dtype("utf-8"),
                             track_times=False)
            for key, value in attrs.items():
                f.attrs[key] = value
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        digest = sha256_file(tmp)
        os.replace(tmp, path)
        return digest
    finally:
        if tmp.exists():
            tmp.unlink()


def read_split(cache: Path, split: str, poolings: list[str] | None = None, verify: bool = True):
    """Load one split whole: ({pooling: float32 [n, layers*hidden]}, labels int8 [n], ids, manifest).

    Every shard is checked against the manifest (present, checksum, counts), so a truncated,
    corrupted or foreign shard is refused with its name rather than silently used.
    """
    cache = Path(cache)
    manifest = read_manifest(cache)
    splits = manifest.get("splits", {})
    if split not in splits:
        have = ", ".join(sorted(splits)) or "none"
        raise BadInput(f"{cache}: the cache has no '{split}' split (it has: {have}); "
                       f"run extract with --splits {split}")
    entry = splits[split]
    if not entry.get("complete"):
        raise BadInput(f"{cache}: split '{split}' is incomplete (extraction was interrupted); "
                       "run the same extract command again to finish it")
    stored = manifest["features"]["poolings"]
    poolings = poolings or stored[:1]
    for p in poolings:
        if p not in stored:
            raise BadInput(f"--pooling {p}: the cache at {cache} holds {', '.join(stored)}; "
                           f"extract again with --pooling {p}")
    parts = {p: [] for p in poolings}
    labels, ids = [], []
    for shard in entry["shards"]:
        path = cache / shard["file"]
        if not path.exists():
            raise BadInput(f"{path}: shard is missing; run the same extract command again to rebuild it")
        if verify and sha256_file(path) != shard["sha256"]:
            raise BadInput(f"{path}: shard checksum does not match the manifest (corrupted or replaced); "
                           "run the same extract command again to rebuild it")
        try:
            with h5py.File(path, "r") as f:
                for p in poolings:
                    parts[p].append(f[dataset_name(p, stored[0])][...])
                labels.append(f["labels"][...])
                ids.extend(s.decode("utf-8") if isinstance(s, bytes) else s for s in f["ids"][...])
        except (OSError, KeyError) as e:
            raise BadInput(f"{path}: unreadable shard ({e}); run the same extract command again to rebuild it")
        if len(labels[-1]) != shard["count"]:
            raise BadInput(f"{path}: holds {len(labels[-1])} reviews, the manifest says {shard['count']}")
    features = {p: np.concatenate(v) if v else np.zeros((0, manifest["features"]["dim"]), np.float32)
                for p, v in parts.items()}
    return features, (np.concatenate(labels) if labels else np.zeros(0, np.int8)), ids, manifest
