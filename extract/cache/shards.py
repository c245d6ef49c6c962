"""One shard of the cache: an HDF5 file of a split's features, labels and ids, written whole and
checked against the manifest when it is read."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import uuid

import h5py
import numpy as np

from ...common import storage
from ...common.errors import BadInput
from ...common.ragged import ragged_positions
from .manifest import SEGMENT_COUNTS, dataset_name, segment_dataset_name


def feature_arrays(pooled: dict[str, np.ndarray], settings) -> dict[str, np.ndarray]:
    """{pooling: [n, layers, hidden]} -> {dataset name: [n, layers*hidden]}, layer-major, in the
    settings' feature dtype."""
    poolings = settings.poolings
    return {dataset_name(p, poolings[0]): pooled[p].reshape(len(pooled[p]), -1).astype(settings.feature_dtype)
            for p in poolings}


def feature_dtype(manifest: dict) -> str:
    """How a cache stores its features; caches made before the choice existed hold float32."""
    return manifest["features"].get("feature_dtype", "float32")


NGRAM_IDS, NGRAM_COUNTS = "ngram_ids", "ngram_counts"


@dataclasses.dataclass
class Ngrams:
    """Reviews' n-gram ids as the cache stores them: every review's ids one after the other (ids),
    and how many each review has (counts)."""
    ids: np.ndarray  # int32 [total]
    counts: np.ndarray  # int32 [reviews]

    def __len__(self) -> int:
        return len(self.counts)

    def take(self, rows) -> "Ngrams":
        """The reviews at `rows`, in that order, without a Python loop over reviews."""
        rows = np.asarray(rows, np.int64)
        return Ngrams(self.ids[ragged_positions(self.counts, rows)], self.counts[rows])

    @staticmethod
    def concatenate(parts: list["Ngrams"]) -> "Ngrams":
        return Ngrams(np.concatenate([p.ids for p in parts] or [np.zeros(0, np.int32)]),
                      np.concatenate([p.counts for p in parts] or [np.zeros(0, np.int32)]))


@dataclasses.dataclass
class Segments:
    """Reviews' per-segment features as the cache stores them: every review's windows (extract
    --segments) or tokens (extract --tokens) one after the other, {pooling: [windows, layers*hidden]}
    or {"token": [tokens, layers*hidden]}, and how many each review has."""
    values: dict  # {pooling or "token": [total segments, dim]}
    counts: np.ndarray  # int32 [reviews]

    def __len__(self) -> int:
        return len(self.counts)

    def take(self, rows) -> "Segments":
        rows = np.asarray(rows, np.int64)
        at = ragged_positions(self.counts, rows)
        return Segments({p: v[at] for p, v in self.values.items()}, self.counts[rows])

    @staticmethod
    def concatenate(parts: list["Segments"]) -> "Segments":
        return Segments({p: np.concatenate([part.values[p] for part in parts]) for p in parts[0].values},
                        np.concatenate([part.counts for part in parts]))


def segment_arrays(segments: Segments, settings) -> dict[str, np.ndarray]:
    """A shard's per-segment datasets: segment_counts, and segment_<name> in the feature dtype for each
    of the segments' values (a window's poolings, or the token's)."""
    arrays = {SEGMENT_COUNTS: np.asarray(segments.counts, np.int32)}
    for name, values in segments.values.items():
        arrays[segment_dataset_name(name)] = values.reshape(len(values), -1).astype(settings.feature_dtype)
    return arrays


def write_shard(path, features: dict[str, np.ndarray], labels: np.ndarray, ids: list[str],
                attrs: dict, lexical=None, segments: dict | None = None) -> str:
    """Write one shard atomically. Returns its sha256.

    The HDF5 file is built in memory and written by storage.write_atomic: a full disk then surfaces
    as an ordinary OSError, where HDF5 writing to disk itself fails in its C library and can crash.
    """
    data = shard_bytes(features, labels, ids, attrs, lexical, segments)
    # A retried or speculative Beam task may write the same shard at once elsewhere: unique temporary names.
    storage.write_atomic(path, data, tag=uuid.uuid4().hex)
    return hashlib.sha256(data).hexdigest()


def written_shard(path) -> tuple[dict, int, str] | None:
    """(attrs, rows, sha256) of a shard file that is there and whole; None when it is not there or
    unreadable. For shards that workers wrote but no manifest lists yet (a pipeline that failed)."""
    if not storage.exists(path):
        return None
    data = storage.read_bytes(path)
    try:
        with h5py.File(io.BytesIO(data), "r") as f:
            return dict(f.attrs), len(f["labels"]), hashlib.sha256(data).hexdigest()
    except (OSError, KeyError):
        return None


def shard_bytes(features: dict[str, np.ndarray], labels: np.ndarray, ids: list[str], attrs: dict,
                lexical=None, segments: dict | None = None) -> bytes:
    """One shard as the bytes of an HDF5 file. lexical: (n-gram ids int32 [total], counts int32 [n]),
    every review's ids one after the other; segments: segment_arrays' datasets."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", track_order=True) as f:
        for name, values in features.items():
            # No timestamps in the file, so the same features give the same bytes.
            f.create_dataset(name, data=values if values.dtype == np.float16 else values.astype(np.float32),
                             track_times=False)
        f.create_dataset("labels", data=labels.astype(np.int8), track_times=False)
        f.create_dataset("ids", data=np.array(ids, dtype=object), dtype=h5py.string_dtype("utf-8"),
                         track_times=False)
        if lexical is not None:
            f.create_dataset(NGRAM_IDS, data=np.asarray(lexical[0], np.int32), track_times=False)
            f.create_dataset(NGRAM_COUNTS, data=np.asarray(lexical[1], np.int32), track_times=False)
        for name, values in (segments or {}).items():
            f.create_dataset(name, data=values, track_times=False)
        for key, value in attrs.items():
            f.attrs[key] = value
    return buffer.getvalue()


def read_shard(cache, shard: dict, manifest: dict, names: list[str], lexical: bool = False, verify: bool = True,
               segment_names: list[str] = ()):
    """Open one shard and check it against the manifest: present, checksum, settings, counts, shapes.

    Returns ({dataset: array}, labels, ids); with lexical, the dict also holds the n-gram ids and
    counts, and with segment_names those per-segment datasets and segment_counts. Any problem is a
    BadInput naming the shard. verify=False skips the checksum of a local
    shard, so that only the datasets named are read from disk: for passes over a split whose shards
    were verified once already (train's epochs).
    """
    path = storage.join(cache, shard["file"])
    rebuild = "run the same extract command again to rebuild it"
    if not storage.exists(path):
        raise BadInput(f"{path}: shard is missing; {rebuild}")
    if verify or storage.is_url(path):
        # Read once, checksum and parse the same bytes: a shard is never read twice, which matters remotely.
        data = storage.read_bytes(path)
        if hashlib.sha256(data).hexdigest() != shard["sha256"]:
            raise BadInput(f"{path}: shard checksum does not match the manifest (truncated, corrupted or "
                           f"replaced); {rebuild}")
        source = io.BytesIO(data)
    else:
        source = path
    try:
        with h5py.File(source, "r") as f:
            if f.attrs.get("fingerprint") != manifest["fingerprint"]:
                raise BadInput(f"{path}: shard was made with other settings than this cache's manifest; {rebuild}")
            wanted = names + ([NGRAM_IDS, NGRAM_COUNTS] if lexical else [])
            wanted += [SEGMENT_COUNTS, *segment_names] if segment_names else []
            arrays = {name: f[name][...] for name in wanted}
            labels = f["labels"][...]
            ids = [s.decode("utf-8") if isinstance(s, bytes) else s for s in f["ids"][...]]
    except (OSError, KeyError) as e:
        raise BadInput(f"{path}: unreadable shard ({str(e).splitlines()[0]}); {rebuild}")
    dim, dtype = manifest["features"]["dim"], feature_dtype(manifest)
    if lexical and (len(arrays[NGRAM_COUNTS]) != shard["count"]
                    or arrays[NGRAM_COUNTS].sum() != len(arrays[NGRAM_IDS])):
        raise BadInput(f"{path}: its n-gram ids do not add up to {shard['count']} reviews; {rebuild}")
    if segment_names:
        counts = arrays[SEGMENT_COUNTS]
        if len(counts) != shard["count"] or (counts < 1).any():
            raise BadInput(f"{path}: its segment counts do not give each of {shard['count']} reviews a segment; "
                           f"{rebuild}")
        for name in segment_names:
            values = arrays[name]
            if values.shape != (int(counts.sum()), dim) or values.dtype != dtype:
                raise BadInput(f"{path}: dataset '{name}' holds {values.dtype} {values.shape}, the manifest and "
                               f"segment counts say {dtype} ({int(counts.sum())}, {dim}); {rebuild}")
    for name in names:
        values = arrays[name]
        if values.shape != (shard["count"], dim):
            raise BadInput(f"{path}: dataset '{name}' has shape {values.shape}, the manifest says "
                           f"({shard['count']}, {dim}); {rebuild}")
        if values.dtype != dtype:
            raise BadInput(f"{path}: dataset '{name}' holds {values.dtype}, the manifest says {dtype}; {rebuild}")
    if len(labels) != shard["count"] or len(ids) != shard["count"]:
        raise BadInput(f"{path}: holds {len(labels)} labels and {len(ids)} ids, the manifest says "
                       f"{shard['count']}; {rebuild}")
    return arrays, labels, ids
