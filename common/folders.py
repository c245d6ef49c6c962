"""Folders this tool writes (model dirs, encoder imports, exports, sweeps' best model), whole or not
at all, and never over something the user had.

A folder is built under a new temporary name beside its target, then renamed into place. An
existing target is replaced only when it is empty, or when it is one of ours (it holds our marker
file) and the user passed --overwrite; the old one is moved aside first and deleted only once the
new one is in place, and put back if the swap fails.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from .errors import BadInput


def read_marker(folder: Path, marker: str, fmt: str) -> dict | None:
    """The folder's marker JSON when it is one of ours (its 'format' field is fmt), else None."""
    path = Path(folder) / marker
    try:
        content = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return content if isinstance(content, dict) and content.get("format") == fmt else None


def check_target(folder, option: str, kind: str, marker: str, fmt: str, overwrite: bool) -> Path:
    """Refuse a target we must not replace, before any expensive work. Returns it as a Path.

    kind names what we write there, e.g. 'a model dir'; marker and fmt identify one of ours.
    """
    folder = Path(folder)
    if not folder.exists():
        if folder.is_symlink():
            raise BadInput(f"{option} {folder}: is a broken symbolic link; choose a new folder")
        _check_writable(folder, option)
        return folder
    if not folder.is_dir():
        raise BadInput(f"{option} {folder}: is a file, not a folder; choose a new folder (nothing was changed)")
    if not any(folder.iterdir()):
        _check_writable(folder, option)
        return folder
    if read_marker(folder, marker, fmt) is None:
        raise BadInput(f"{option} {folder}: is not empty and is not {kind} of this tool; choose a new or "
                       "empty folder (nothing there was touched)")
    if not overwrite:
        raise BadInput(f"{option} {folder}: already holds {kind}; pass --overwrite to replace it, or choose "
                       "another folder")
    _check_writable(folder, option)
    return folder


def _check_writable(folder: Path, option: str) -> None:
    """The folder's new version is built beside it: try that now, before the expensive work."""
    place = folder.absolute().parent
    while not place.exists():
        place = place.parent
    try:
        probe = tempfile.mkdtemp(prefix=".probe-", dir=place)
        os.rmdir(probe)
    except OSError as e:
        raise BadInput(f"{option} {folder}: cannot write in {place} ({e.strerror or e}); choose a folder you can "
                       "write")


def write_folder(folder, build: Callable[[Path], None], option: str, kind: str, marker: str, fmt: str,
                 overwrite: bool) -> Path:
    """Run build(tmp) in a new temporary folder beside `folder`, then swap it in.

    build must write the marker file. The target is checked again just before the swap, since it
    may have changed while build ran.
    """
    folder = check_target(folder, option, kind, marker, fmt, overwrite)
    parent = folder.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=parent))
    except OSError as e:
        raise BadInput(f"{option} {folder}: cannot create the folder ({e.strerror or e}); choose a folder "
                       "you can write")
    try:
        try:
            build(tmp)
        except OSError as e:
            raise BadInput(f"{option} {folder}: cannot write ({e.strerror or e}); free disk space or choose "
                           "another folder (nothing there was changed)")
        check_target(folder, option, kind, marker, fmt, overwrite)
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=parent))
            old.rmdir()
            folder.rename(old)
            try:
                tmp.rename(folder)
            except OSError:
                old.rename(folder)
                raise
            shutil.rmtree(old)
        else:
            tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
