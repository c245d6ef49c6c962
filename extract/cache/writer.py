"""Writing a cache: the output folder's state (new, ours to resume, ours to replace with --overwrite,
or refused), the lock, the manifest, each finished shard recorded once, and the cleanup.

A cache folder is resumable: the manifest is written before the first shard and again after each
one, and lists only shards written whole, so a run stopped anywhere leaves a cache that the same
command finishes.

A cache of other settings is never written over. With --overwrite, its replacement is built beside
it, in CACHE.replacement (a cache folder like any other, so it resumes the same way), and swapped in
only once complete; until then the old cache is untouched and is the one train reads.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import shutil
import tempfile

from ...common import storage
from ...common.errors import BadInput
from ...common.provenance import machine, now, versions
from . import encoder_ir
from . import manifest as cache_manifest

LOCK = ".lock"
REPLACEMENT = ".replacement"


@dataclasses.dataclass
class OutFolder:
    """Where this run writes, as it found it: --out, or the replacement beside it."""
    out: str
    created: bool  # made by this run: removed again if the run writes nothing
    resume: dict | None = None  # the manifest of a cache of the same settings, finished or not
    replaced: dict | None = None  # an unfinished replacement of other settings, given up with --overwrite
    target: str | None = None  # --out, when this run builds its replacement: swapped in once complete


def replacement_of(out: str) -> str:
    """Where the replacement of the cache `out` is built: beside it, so that a rename swaps it in."""
    return str(out).rstrip("/") + REPLACEMENT


def entries(out: str) -> list[str]:
    """Names in a cache folder, leaving out our lock and temporary files."""
    return [name for name in storage.listdir(out) if name != LOCK and ".tmp-" not in name]


def create(out: str, what: str = "") -> OutFolder:
    """The folder made if missing; a file where it should be is refused. what: how messages name it."""
    what = what or f"--out {out}"
    local = not storage.is_url(out)
    if local and os.path.exists(out) and not os.path.isdir(out):
        raise BadInput(f"{what}: is a file, not a folder; choose a folder for the cache")
    created = local and not os.path.exists(out)
    try:
        storage.makedirs(out)
    except OSError as e:
        raise BadInput(f"{what}: cannot create the folder ({e.strerror or e}); choose a folder you can write")
    return OutFolder(out, created)


def inspect(folder: OutFolder, fields: dict, overwrite: bool, labels: list[str] | None = None) -> OutFolder:
    """What --out holds, checked before any expensive work: nothing, a cache of these settings (to
    resume), or, with --overwrite, a cache of other settings (to replace: the run writes the
    replacement beside it); anything else is refused. labels: the classes the data gives now; a
    cache whose classes differ (made by a version that read labels otherwise) is not resumed."""
    out = folder.out
    names = entries(out)  # one listing: on an object store each is a request
    if not names:
        return folder
    beside = replacement_of(out)
    if cache_manifest.MANIFEST not in names:
        if overwrite and _manifest_in(beside, fields, complete=True):
            # A swap into an object store that stopped half-way: the finished replacement is whole.
            return _replacement(beside, fields, out)
        raise BadInput(f"--out {out}: folder is not empty and holds no feature cache; "
                       "choose a new or empty folder (nothing there was touched)")
    manifest = cache_manifest.read_manifest(out)
    old = manifest.get("fingerprint_fields", {})
    same_classes = labels is None or manifest.get("labels") == list(labels)
    if old == fields and same_classes:
        return dataclasses.replace(folder, resume=manifest)
    if not overwrite:
        hint = (f"; the replacement begun with these settings is in {beside}: pass --overwrite to finish it"
                if _manifest_in(beside, fields) else "")
        reason = (f"{', '.join(cache_manifest.differences(old, fields))} differ" if old != fields else
                  f"its classes {', '.join(manifest.get('labels', []))} differ from the data's now, "
                  f"{', '.join(labels)}")
        raise BadInput(f"--out {out}: holds a cache made with other settings ({reason}){hint}; pass --overwrite "
                       "to replace it, or choose another --out")
    return _replacement(beside, fields, out)


def _manifest_of(out: str) -> dict | None:
    """The manifest in `out`, if it holds one."""
    return cache_manifest.read_manifest(out) if cache_manifest.MANIFEST in entries(out) else None


def _manifest_in(out: str, fields: dict, complete: bool = False) -> dict | None:
    """The manifest of a cache of these settings in `out` (every split finished, if complete)."""
    manifest = _manifest_of(out)
    if manifest is None or manifest.get("fingerprint_fields") != fields:
        return None
    if complete and not all(entry.get("complete") for entry in manifest.get("splits", {}).values()):
        return None
    return manifest


def _replacement(beside: str, fields: dict, target: str) -> OutFolder:
    """The replacement's folder: new, resumed (same settings) or, when an earlier replacement of
    other settings was left there, replaced (it is ours, and never was the cache train reads)."""
    folder = dataclasses.replace(create(beside, f"{beside} (the replacement for {target})"), target=target)
    names = entries(beside)
    if not names:
        return folder
    if cache_manifest.MANIFEST not in names:
        raise BadInput(f"{beside}: is not empty and holds no feature cache, but it is where the replacement for "
                       f"{target} is built; move it away, then run the same command again (nothing was touched)")
    manifest = cache_manifest.read_manifest(beside)
    if manifest.get("fingerprint_fields") == fields:
        return dataclasses.replace(folder, resume=manifest)
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
    for name in own_files(folder.replaced):
        storage.delete(storage.join(folder.out, name))
    for name in storage.listdir(folder.out):
        if name.startswith(".") and ".tmp-" in name:
            storage.delete(storage.join(folder.out, name))


def own_files(manifest: dict | None) -> set[str]:
    """The files a cache's manifest makes its own: shards, int8 encoder, the manifest itself."""
    if not manifest:
        return set()
    shards = {shard["file"] for entry in manifest.get("splits", {}).values() for shard in entry.get("shards", [])}
    return shards | set(encoder_ir.recorded(manifest)) | {cache_manifest.MANIFEST}


def swap_in(folder: OutFolder, manifest: dict) -> None:
    """The finished replacement takes the old cache's place. The old cache's own files go; anything
    else the user kept in that folder stays."""
    target, new = folder.target, folder.out
    manifest.pop("replaces", None)
    write(new, manifest)
    old = _manifest_of(target)
    if storage.is_url(target):
        _swap_objects(new, target, old)
    else:
        _swap_folders(new, target, old)


def _swap_folders(new: str, target: str, old: dict | None) -> None:
    """Two renames: the old cache is whole until the first, the new one from the second."""
    parent, name = os.path.split(os.path.abspath(target))
    aside = tempfile.mkdtemp(prefix=f".{name}.old-", dir=parent)
    os.rmdir(aside)
    os.rename(target, aside)
    try:
        os.rename(new, target)
    except OSError:
        os.rename(aside, target)
        raise
    ours = own_files(old) | {LOCK}
    for entry in os.listdir(aside):
        if entry in ours or ".tmp-" in entry:
            storage.delete(os.path.join(aside, entry))
        elif not os.path.exists(os.path.join(target, entry)):
            os.rename(os.path.join(aside, entry), os.path.join(target, entry))  # the user's, kept
    with contextlib.suppress(OSError):
        os.rmdir(aside)  # left in place if it still holds something of the user's


def _swap_objects(new: str, target: str, old: dict | None) -> None:
    """An object store renames one object at a time: the old manifest goes first, the new one comes
    last, so a swap that stops half-way leaves the complete replacement, which the same command
    finishes swapping in (inspect; shards that had already moved are encoded again)."""
    storage.delete(storage.join(target, cache_manifest.MANIFEST))
    for name in own_files(old):
        storage.delete(storage.join(target, name))
    names = [n for n in entries(new) if n != cache_manifest.MANIFEST]
    for name in names + [cache_manifest.MANIFEST]:
        storage.rename(storage.join(new, name), storage.join(target, name))
    storage.remove_empty_folder(new)


def replacement_note(cache: str) -> str | None:
    """For check-cache: whether `cache` is an unfinished replacement, or has one beside it."""
    manifest = _manifest_of(cache) or {}
    if manifest.get("replaces"):
        return (f"{cache} is an unfinished replacement for {manifest['replaces']}, which is untouched and is "
                f"still the cache train reads; run the same extract command again to finish it (it is swapped "
                f"in when complete), or remove {cache} to give up")
    beside = replacement_of(cache)
    pending = _manifest_of(beside)
    if pending:
        done = sum(len(entry.get("shards", [])) for entry in pending.get("splits", {}).values())
        return (f"a replacement for {cache} is being built in {beside} ({done} shards so far); {cache} is the "
                f"cache train reads until the extract command that began it finishes (run it again to resume), "
                f"or remove {beside} to give up")
    return None


def new_manifest(fields: dict, features: dict, data: dict, labels: list[str]) -> dict:
    """A new cache's manifest: how the features were made (fingerprint_fields, fingerprinted),
    what they are (features), the data read, the class names; no splits yet."""
    return {"format": cache_manifest.FORMAT, "format_version": cache_manifest.FORMAT_VERSION,
            "fingerprint": cache_manifest.fingerprint(fields), "fingerprint_fields": fields,
            "features": features, "data": data, "labels": labels, "splits": {}, "created": now()}


def stamp(manifest: dict, command: str, device: str) -> None:
    """The run's provenance: versions, command and machine of the run that wrote last."""
    manifest.update(versions=versions(), command=command, machine={**machine(), "device": device})


def record_shard(out: str, manifest: dict, entry: dict, shard: dict) -> None:
    """A finished shard ({file, count, sha256}) into its split's entry and the manifest on disk."""
    entry["shards"].append(shard)
    write(out, manifest)


def complete(entry: dict, seconds: float | None) -> None:
    """A split whose every shard is recorded."""
    entry["shards"].sort(key=lambda shard: shard["file"])
    if seconds is not None:
        entry["seconds"] = round(seconds, 2)
    entry["complete"] = True


def write(out: str, manifest: dict) -> None:
    cache_manifest.write_manifest(out, manifest)
