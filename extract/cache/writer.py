"""Writing a cache: the output folder's state (new, ours to resume, ours to replace with --overwrite,
or refused), the lock, the manifest, each finished shard recorded once, and the cleanup.

A cache folder is resumable: the manifest is written before the first shard and again after each
one, and lists only shards written whole, so a run stopped anywhere leaves a cache that the same
command finishes.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import shutil

from ...common import storage
from ...common.errors import BadInput
from ...common.provenance import machine, now, versions
from . import encoder_ir
from . import manifest as cache_manifest

LOCK = ".lock"


@dataclasses.dataclass
class OutFolder:
    """--out as this run found it."""
    out: str
    created: bool  # made by this run: removed again if the run writes nothing
    resume: dict | None = None  # the manifest of a cache of the same settings, finished or not
    replaced: dict | None = None  # the manifest of a cache of other settings, given up with --overwrite


def entries(out: str) -> list[str]:
    """Names in a cache folder, leaving out our lock and temporary files."""
    return [name for name in storage.listdir(out) if name != LOCK and ".tmp-" not in name]


def create(out: str) -> OutFolder:
    """The folder made if missing; a file where it should be is refused."""
    local = not storage.is_url(out)
    if local and os.path.exists(out) and not os.path.isdir(out):
        raise BadInput(f"--out {out}: is a file, not a folder; choose a folder for the cache")
    created = local and not os.path.exists(out)
    try:
        storage.makedirs(out)
    except OSError as e:
        raise BadInput(f"--out {out}: cannot create the folder ({e.strerror or e}); choose a folder you can write")
    return OutFolder(out, created)


def inspect(folder: OutFolder, fields: dict, overwrite: bool) -> OutFolder:
    """What --out holds, checked before any expensive work: nothing, a cache of these settings (to
    resume), or, with --overwrite, a cache of other settings (to replace); anything else is refused."""
    out = folder.out
    names = entries(out)  # one listing: on an object store each is a request
    if not names:
        return folder
    if cache_manifest.MANIFEST not in names:
        raise BadInput(f"--out {out}: folder is not empty and holds no feature cache; "
                       "choose a new or empty folder (nothing there was touched)")
    manifest = cache_manifest.read_manifest(out)
    old = manifest.get("fingerprint_fields", {})
    if old == fields:
        return dataclasses.replace(folder, resume=manifest)
    if not overwrite:
        raise BadInput(f"--out {out}: holds a cache made with other settings "
                       f"({', '.join(cache_manifest.differences(old, fields))} differ); pass --overwrite to "
                       "replace it, or choose another --out")
    return dataclasses.replace(folder, replaced=manifest)


@contextlib.contextmanager
def lock(out: str):
    """Hold an exclusive lock on a local cache folder for the whole extraction.

    flock is released by the kernel when its holder dies, so a lock left by a killed extract is
    stale by construction and simply taken over. Object stores have no such lock; there, as with
    any shared bucket, one extract per --out is the user's to ensure.
    """
    if storage.is_url(out):
        yield
        return
    path = os.path.join(out, LOCK)
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


def leave_no_trace(folder: OutFolder) -> None:
    """After a run that wrote nothing: the folder it made, or its lock, goes again."""
    if storage.is_url(folder.out) or entries(folder.out):
        return
    if folder.created:
        shutil.rmtree(folder.out, ignore_errors=True)
    else:
        storage.delete(os.path.join(folder.out, LOCK))


def clear_for_new_run(folder: OutFolder) -> None:
    """Once the new run is known to work: the replaced cache's own files (shards, int8 encoder,
    manifest, nothing else in the folder), and temporary files of a killed run."""
    out, old = folder.out, folder.replaced
    if old:
        for entry in old.get("splits", {}).values():
            for shard in entry.get("shards", []):
                storage.delete(storage.join(out, shard["file"]))
        for name in encoder_ir.recorded(old):
            storage.delete(storage.join(out, name))
        storage.delete(storage.join(out, cache_manifest.MANIFEST))
    for name in storage.listdir(out):
        if name.startswith(".") and ".tmp-" in name:
            storage.delete(storage.join(out, name))


def new_manifest(fields: dict, features: dict, data: dict, labels: list[str]) -> dict:
    """A new cache's manifest: how the features were made (fingerprint_fields, fingerprinted),
    what they are (features), the data read, the class names; no splits yet."""
    return {"format": cache_manifest.FORMAT, "format_version": cache_manifest.FORMAT_VERSION,
            "fingerprint": cache_manifest.fingerprint(fields), "fingerprint_fields": fields,
            "features": features, "data": data, "labels": labels, "splits": {}, "created": now()}


def stamp(manifest: dict, command: str, device: str) -> None:
    """The run's provenance: versions, command and machine of the run that wrote last."""
    manifest.update(versions=versions(), command=command, machine={**machine(), "device": device})


def record_shard(out: str, manifest: dict, entry: dict, name: str, count: int, digest: str | None = None) -> None:
    """A finished shard into its split's entry and the manifest on disk. digest: the shard's sha256,
    read back from the file when the writer was another process (a Beam worker)."""
    digest = digest or cache_manifest.sha256_file(storage.join(out, name))
    entry["shards"].append({"file": name, "count": count, "sha256": digest})
    write(out, manifest)


def complete(entry: dict, seconds: float | None) -> None:
    """A split whose every shard is recorded."""
    entry["shards"].sort(key=lambda shard: shard["file"])
    if seconds is not None:
        entry["seconds"] = round(seconds, 2)
    entry["complete"] = True


def write(out: str, manifest: dict) -> None:
    cache_manifest.write_manifest(out, manifest)
