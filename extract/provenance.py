"""What every artifact records about how it was made: package versions and the command line."""
from __future__ import annotations

import datetime
import os
import platform
import shlex
import sys
from importlib import metadata

PACKAGES = ("tensorflow", "tensorflow-text", "tensorflow-hub", "keras", "numpy", "h5py", "click")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


_command: str | None = None


def set_command(line: str) -> None:
    """The CLI records the command it runs, so artifacts made in-process (tests, notebooks) name it too."""
    global _command
    _command = line


def command_line() -> str:
    """The command that made an artifact, with the script's folder dropped so the line is portable."""
    if _command is not None:
        return _command
    return shlex.join([os.path.basename(sys.argv[0])] + sys.argv[1:]) if sys.argv else ""


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def machine() -> dict:
    return {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count()}
