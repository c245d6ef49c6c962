"""The int8 encoder a cache was extracted with (OpenVINO IR, two files), kept in the cache and
copied into every model dir trained on it, each file checked against the sha256 the manifest
records: a model then encodes new texts with exactly the weights its features came from."""
from __future__ import annotations

import os
from pathlib import Path

from ...common import storage
from ...common.digest import sha256_file
from ...common.errors import BadInput
from ..runtimes.openvino_runtime import IR_BIN, IR_XML

FILES = (IR_BIN, IR_XML)  # the .xml last: it names a whole model only once its weights are there


def recorded(manifest: dict) -> dict[str, str]:
    """{file name: sha256} of the cache's int8 encoder; empty for other precisions."""
    return manifest["features"].get("encoder_ir", {})


def store(cache, ir_dir) -> dict[str, str]:
    """Copy the quantised encoder into the cache, each file whole. Returns the manifest entry."""
    entry = {}
    for name in FILES:
        data = (Path(ir_dir) / name).read_bytes()
        storage.write_atomic(storage.join(cache, name), data)
        entry[name] = sha256_file(Path(ir_dir) / name)
    return entry


def fetch(cache, manifest: dict, dest) -> Path:
    """Copy the cache's int8 encoder into the local folder dest, checked. Returns dest.

    A local cache's files are hard-linked where the file system allows: a sweep's every trial
    keeps its own model dir, and the files never change (their checksums are checked on use)."""
    for name in FILES:
        source = storage.join(cache, name)
        if not storage.exists(source):
            raise BadInput(f"{source}: missing; the cache's int8 encoder is gone, extract again with --overwrite")
        target = Path(dest) / name
        try:
            if storage.is_url(source):
                raise OSError("remote")
            os.link(source, target)
        except OSError:
            target.write_bytes(storage.read_bytes(source))
        if sha256_file(target) != recorded(manifest)[name]:
            target.unlink()
            raise BadInput(f"{source}: its checksum differs from the manifest's; the int8 encoder was changed "
                           "or damaged, extract again with --overwrite")
    return Path(dest)


def check(folder, manifest: dict) -> None:
    """A model dir's copy of the int8 encoder must be the one its training cache recorded."""
    for name, digest in recorded(manifest).items():
        path = Path(folder) / name
        if not path.is_file():
            raise BadInput(f"{path}: missing; this model dir's int8 encoder is gone, train it again")
        if sha256_file(path) != digest:
            raise BadInput(f"{path}: its checksum differs from the one recorded at training; the int8 "
                           "encoder was changed or damaged, train the model again")
