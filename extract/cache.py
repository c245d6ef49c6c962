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
import io
import json
from collections import Counter
from pathlib import Path

import h5py
import numpy as np

from data.digest import sha256_file as local_sha256
from data.errors import BadInput
from extract import storage

FORMAT = "multilayer-bert-sentiment/feature-cache"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def dataset_name(pooling: str, first: str) -> str:
    return "features" if pooling == first else f"features_{pooling}"


def shard_name(split: str, index: int, count: int) -> str:
    return f"{split}-{index:05d}-of-{count:05d}.h5"


def sha256_file(path) -> str:
    """Checksum of a shard, local (streamed) or at a URL."""
    if storage.is_url(path):
        return hashlib.sha256(storage.read_bytes(path)).hexdigest()
    return local_sha256(path)


def write_manifest(cache, manifest: dict) -> None:
    storage.write_atomic(storage.join(cache, MANIFEST), (json.dumps(manifest, indent=2) + "\n").encode())


def read_manifest(cache) -> dict:
    path = storage.join(cache, MANIFEST)
    if not storage.is_url(cache) and not Path(cache).is_dir():
        raise BadInput(f"{cache}: no such cache folder; make one with `python cli.py extract --out {cache}`")
    if not storage.exists(path):
        raise BadInput(f"{cache}: not a feature cache (no {MANIFEST}); make one with `python cli.py extract`")
    try:
        manifest = json.loads(storage.read_bytes(path))
    except (ValueError, OSError) as e:
        raise BadInput(f"{path}: unreadable manifest ({e}); extract again with --overwrite")
    if manifest.get("format") != FORMAT:
        raise BadInput(f"{path}: not a manifest of this tool (field 'format'); extract again")
    return manifest


def feature_arrays(pooled: dict[str, np.ndarray], poolings) -> dict[str, np.ndarray]:
    """{pooling: [n, layers, hidden]} -> {dataset name: [n, layers*hidden]}, layer-major."""
    return {dataset_name(p, poolings[0]): pooled[p].reshape(len(pooled[p]), -1) for p in poolings}


def write_shard(path, features: dict[str, np.ndarray], labels: np.ndarray, ids: list[str],
                attrs: dict) -> str:
    """Write one shard atomically. Returns its sha256.

    The HDF5 file is built in memory and written by storage.write_atomic: a full disk then surfaces
    as an ordinary OSError, where HDF5 writing to disk itself fails in its C library and can crash.
    """
    data = shard_bytes(features, labels, ids, attrs)
    storage.write_atomic(path, data)
    return hashlib.sha256(data).hexdigest()


def shard_bytes(features: dict[str, np.ndarray], labels: np.ndarray, ids: list[str], attrs: dict) -> bytes:
    """One shard as the bytes of an HDF5 file."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", track_order=True) as f:
        for name, values in features.items():
            # No timestamps in the file, so the same features give the same bytes.
            f.create_dataset(name, data=values.astype(np.float32), track_times=False)
        f.create_dataset("labels", data=labels.astype(np.int8), track_times=False)
        f.create_dataset("ids", data=np.array(ids, dtype=object), dtype=h5py.string_dtype("utf-8"),
                         track_times=False)
        for key, value in attrs.items():
            f.attrs[key] = value
    return buffer.getvalue()


def _read_shard(cache, shard: dict, manifest: dict, names: list[str]):
    """Open one shard and check it against the manifest: present, checksum, settings, counts, shapes.

    Returns ({dataset: array}, labels, ids). Any problem is a BadInput naming the shard.
    """
    path = storage.join(cache, shard["file"])
    rebuild = "run the same extract command again to rebuild it"
    if not storage.exists(path):
        raise BadInput(f"{path}: shard is missing; {rebuild}")
    # Read once, checksum and parse the same bytes: a shard is never read twice, which matters remotely.
    data = storage.read_bytes(path)
    if hashlib.sha256(data).hexdigest() != shard["sha256"]:
        raise BadInput(f"{path}: shard checksum does not match the manifest (truncated, corrupted or "
                       f"replaced); {rebuild}")
    try:
        with h5py.File(io.BytesIO(data), "r") as f:
            if f.attrs.get("fingerprint") != manifest["fingerprint"]:
                raise BadInput(f"{path}: shard was made with other settings than this cache's manifest; {rebuild}")
            arrays = {name: f[name][...] for name in names}
            labels = f["labels"][...]
            ids = [s.decode("utf-8") if isinstance(s, bytes) else s for s in f["ids"][...]]
    except (OSError, KeyError) as e:
        raise BadInput(f"{path}: unreadable shard ({str(e).splitlines()[0]}); {rebuild}")
    dim = manifest["features"]["dim"]
    for name, values in arrays.items():
        if values.shape != (shard["count"], dim):
            raise BadInput(f"{path}: dataset '{name}' has shape {values.shape}, the manifest says "
                           f"({shard['count']}, {dim}); {rebuild}")
    if len(labels) != shard["count"] or len(ids) != shard["count"]:
        raise BadInput(f"{path}: holds {len(labels)} labels and {len(ids)} ids, the manifest says "
                       f"{shard['count']}; {rebuild}")
    return arrays, labels, ids


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
        arrays, shard_labels, shard_ids = _read_shard(cache, shard, manifest, names)
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
                _, labels, ids = _read_shard(cache, shard, manifest, names)
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
