"""The cache's manifest.json: how the features were made, per-split counts and shard checksums.

Layout of CACHE/ (a local folder or a URL):
  manifest.json                      how the features were made, per-split counts, shard checksums
  <split>-00000-of-00007.h5          `features` float32 or float16 [n, layers*hidden] (first pooling),
                                     `features_<pooling>` for further poolings, `labels` int8 [n],
                                     `ids` utf-8 strings [n]; with --ngrams, `ngram_ids` and
                                     `ngram_counts`; with --segments, `segment_counts` int32 [n]
                                     and `segment_<pooling>` [windows, layers*hidden]; with
                                     --tokens, `segment_counts` and `segment_token`
                                     [tokens, layers*hidden]
Columns are layer-major: columns [l*hidden, (l+1)*hidden) hold layer l.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ...common import storage
from ...common.digest import sha256_file as local_sha256
from ...common.errors import BadInput

FORMAT = "multilayer-bert-sentiment/feature-cache"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def fingerprint(fields: dict) -> str:
    """A short digest of everything that shaped the features; every shard carries it."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def differences(old: dict, new: dict) -> list[str]:
    """Which fingerprint fields differ, a level deep: 'settings.precision', 'encoder', ..."""
    found = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            found += [f"{key}.{k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        else:
            found.append(key)
    return found


def dataset_name(pooling: str, first: str) -> str:
    return "features" if pooling == first else f"features_{pooling}"


def segment_dataset_name(pooling: str) -> str:
    return f"segment_{pooling}"


SEGMENT_COUNTS = "segment_counts"


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
        raise BadInput(f"{cache}: no such cache folder; make one with `mlbert extract --out {cache}`")
    if not storage.exists(path):
        raise BadInput(f"{cache}: not a feature cache (no {MANIFEST}); make one with `mlbert extract`")
    try:
        manifest = json.loads(storage.read_bytes(path))
    except (ValueError, OSError) as e:
        raise BadInput(f"{path}: unreadable manifest ({e}); extract again with --overwrite")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BadInput(f"{path}: not a manifest of this tool (field 'format'); extract again")
    return manifest


def labels_of(manifest: dict) -> list[str]:
    """The cache's class names, in class-index order; caches made before labels were recorded hold
    IMDB's neg and pos."""
    return list(manifest.get("labels") or ("neg", "pos"))


def label_counts_of(counts: dict) -> dict[str, int]:
    """A split's reviews per class from its manifest counts, old (pos, neg) or new (labels)."""
    return dict(counts["labels"]) if "labels" in counts else {"neg": counts["neg"], "pos": counts["pos"]}
