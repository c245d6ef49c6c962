"""Option values as the CLI and the Python API take them, checked in one place.

The API accepts Python values (`pooling=("mean", "max")`, `hidden=[256, 128]`) or the CLI's
strings (`"mean,max"`, `"256,128"`); every error names the option as the CLI spells it.
"""
from __future__ import annotations

import math

from .errors import BadInput


def flag(name: str) -> str:
    """The CLI spelling of an option: seq_len -> --seq-len."""
    return "--" + name.replace("_", "-")


def as_list(value, kind, name: str) -> tuple:
    """A comma-separated string or a sequence, as a tuple of `kind` (str, int or float)."""
    if value is None:
        return ()
    items = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
    try:
        parsed = tuple(kind(v) for v in items if not (isinstance(v, str) and not v))
    except (TypeError, ValueError):
        raise BadInput(f"{flag(name)} {value}: not a comma-separated list of {kind.__name__} values")
    for v in parsed:
        if isinstance(v, float):
            finite(v, name)
    return parsed


def finite(value: float, name: str) -> float:
    if not math.isfinite(value):
        raise BadInput(f"{flag(name)} {value}: must be a finite number")
    return value


def at_least(value, low, name: str, what: str = ""):
    if value is None or value < low:
        raise BadInput(f"{flag(name)} {value}: must be at least {low}{what}")
    return value


def between(value: float, low: float, high: float, name: str) -> float:
    finite(value, name)
    if not low < value < high:
        raise BadInput(f"{flag(name)} {value}: must be between {low} and {high}")
    return value


def known(options: dict, allowed, where: str) -> None:
    """Refuse option names a function does not take, naming the ones it does."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise BadInput(f"{where}: unknown option '{unknown[0]}'; options are {', '.join(sorted(allowed))}")
