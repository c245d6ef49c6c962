"""int8 encoders kept on this machine: quantised once per encoder, preprocessor and sequence length.

Quantising costs more than encoding a thousand reviews at int8 (OpenVINO's conversion and NNCF's
calibration). The calibration texts are the built-in corpus, not the user's reviews, so the
quantised encoder depends on the models, the sequence length and the recipe alone: it is made
once, and every later int8 cache, of any data, starts at once with the very encoder it would have
made anew. A cache's features never depend on which data came first.

Kept under $MLBERT_CACHE_DIR (default $XDG_CACHE_HOME/mlbert, else ~/.cache/mlbert), in
int8-encoders/<key>/, each entry written under a temporary name and renamed whole. Its files are
checked against their recorded sha256 on every use; a damaged entry is quantised again and
replaced (only a folder that holds our int8-encoder.json is ever removed). Deleting the folder is
always safe: it only costs the next int8 extract the quantising.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from ...common.digest import sha256_file
from ...common.folders import read_marker
from ...common.provenance import versions
from ..runtimes.openvino_runtime import IR_BIN, IR_XML
from . import calibration
from .recipe import RECIPE

META = "int8-encoder.json"
FORMAT = "mlbert-int8-encoder"


def root() -> Path:
    base = os.environ.get("MLBERT_CACHE_DIR")
    if not base:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mlbert"
    return Path(base).expanduser() / "int8-encoders"  # "~/..." from a .env file, too


def key(encoder: dict, preprocessor: dict, seq_len: int) -> str:
    """Everything the quantised encoder depends on. encoder and preprocessor are the identities a
    cache records (handle, and a content digest for local folders)."""
    installed = versions()
    parts = {"encoder": encoder.get("sha256") or encoder["handle"],
             "preprocessor": preprocessor.get("sha256") or preprocessor["handle"], "seq_len": seq_len,
             "recipe": RECIPE, "corpus": sha256_file(calibration.CORPUS),
             **{name: installed[name] for name in ("openvino", "nncf")}}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def lookup(entry_key: str) -> dict | None:
    """The kept entry's record, with its folder, when it is there and whole; else None."""
    folder = root() / entry_key
    meta = read_marker(folder, META, FORMAT)
    try:
        if meta is None or any(sha256_file(folder / name) != digest for name, digest in meta["files"].items()):
            return None
    except (OSError, KeyError, AttributeError):
        return None
    return {**meta, "folder": str(folder)}


def keep(entry_key: str, ir_dir, record: dict) -> None:
    """Keep the quantised encoder in ir_dir for later caches. Failing to (a read-only home, a full
    disk) costs only the next run's quantising: it is said on stderr and the run goes on."""
    target = root() / entry_key
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{entry_key}.tmp-", dir=target.parent))
        try:
            files = {}
            for name in (IR_BIN, IR_XML):
                shutil.copyfile(Path(ir_dir) / name, scratch / name)
                files[name] = sha256_file(scratch / name)
            (scratch / META).write_text(json.dumps({"format": FORMAT, **record, "files": files}, indent=2) + "\n")
            if lookup(entry_key) is not None:  # another run kept the same encoder meanwhile
                return
            if target.exists():  # damaged, and the new one is ready: replaced only when it is ours
                if read_marker(target, META, FORMAT) is None:
                    raise OSError(f"{target} exists and is not an int8 encoder kept by mlbert; it was left as it is")
                shutil.rmtree(target)
            try:
                os.rename(scratch, target)
            except OSError:
                if lookup(entry_key) is None:  # not another run keeping the same encoder first
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    except OSError as e:
        print(f"extract: warning: cannot keep the int8 encoder in {target} ({e.strerror or e}); the next "
              "int8 extract will quantise again (set MLBERT_CACHE_DIR to a folder you can write)",
              file=sys.stderr, flush=True)
