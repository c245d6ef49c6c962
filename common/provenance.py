"""What every artifact records about how it was made: package versions, machine, time, command.

The command is passed down by whoever runs the work (the CLI gives its command line; the Python
API a call such as `mlbert.train(cache='c', model_dir='m')`), never kept in a global, so every
artifact made in one process names its own command.
"""
from __future__ import annotations

import datetime
import os
import platform
from importlib import metadata

# openvino and nncf run --precision bf16|int8 (the `fast` extra): "not installed" says fp32 only.
PACKAGES = ("multilayer-bert-sentiment", "tensorflow", "tensorflow-text", "tensorflow-hub", "keras", "numpy",
            "h5py", "click", "openvino", "nncf")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def api_call(name: str, args: dict) -> str:
    """How a Python API call is recorded: mlbert.<name>(key=value, ...), arguments given only."""
    shown = ", ".join(f"{key}={os.fspath(value) if isinstance(value, os.PathLike) else value!r}"
                      for key, value in args.items())
    return f"mlbert.{name}({shown})"


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def machine() -> dict:
    return {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count()}


def record(command: str) -> dict:
    """The provenance fields every artifact carries."""
    return {"versions": versions(), "machine": machine(), "command": command, "created": now()}
