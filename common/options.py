"""Option values as the CLI and the Python API take them, checked in one place.

The API accepts Python values (`pooling=("mean", "max")`, `hidden=[256, 128]`) or the CLI's
strings (`"mean,max"`, `"256,128"`); every error names the option as the CLI spells it.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import os

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


def path(value, name: str) -> str:
    """A path argument of the API (a string or an os.PathLike) as a string."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value:
        raise BadInput(f"{flag(name)} {value!r}: must be a path (a string or pathlib.Path), not "
                       f"{type(value).__name__ if value != '' else 'empty'}")
    return value


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


# Declaring an option once: its name (the API's keyword; the CLI's --flag), kind, default and help.
# The CLI's options, the API's keyword and type checks and the API's docstrings are made from it.
KINDS = {"int": int, "float": float, "str": str, "bool": bool, "list": str}


@dataclasses.dataclass(frozen=True)
class Option:
    name: str
    kind: str  # int, float, str, bool (a flag), list (a comma-separated list, or a sequence in the API)
    default: object
    help: str
    choices: tuple[str, ...] | None = None
    repeat: bool = False  # given many times on the command line (the API takes a sequence)
    default_text: str | None = None  # how the help shows a default that is computed later

    def check(self, value):
        """The value, or one BadInput naming the option and the type it takes."""
        if value is None and (self.default is None or self.kind == "list"):
            return value
        if self.kind == "str" and isinstance(value, os.PathLike):
            value = os.fspath(value)  # a path option takes a pathlib.Path too
        expected = KINDS[self.kind]
        ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
        if self.kind in ("int", "float") and not isinstance(value, bool):  # numpy's numbers too
            ok = isinstance(value, numbers.Integral if self.kind == "int" else numbers.Real)
        if self.kind == "list" or self.repeat:
            ok = isinstance(value, str) or (isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value))
        if not ok:
            what = {"int": "an integer", "float": "a number", "str": "a string", "bool": "True or False",
                    "list": "a comma-separated string or a list of strings"}[self.kind]
            raise BadInput(f"{flag(self.name)} {value!r}: must be {what}, not {type(value).__name__}")
        if self.choices and value not in self.choices:
            raise BadInput(f"{flag(self.name)} {value}: choose one of {', '.join(self.choices)}")
        return value


def parse(declared: tuple[Option, ...], given: dict, where: str) -> dict:
    """Every declared option's value: the given one, checked, else its default. A keyword that is
    not declared is refused, naming the nearest one that is."""
    names = [o.name for o in declared]
    check_keywords(given, names, where)
    return {o.name: o.check(given[o.name]) if o.name in given else o.default for o in declared}


def check_keywords(given, allowed, where: str) -> None:
    """Refuse option names a function does not take, naming the nearest it does."""
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        near = difflib.get_close_matches(unknown[0], list(allowed), n=1, cutoff=0.5)
        hint = f"did you mean '{near[0]}'? " if near else ""
        raise BadInput(f"{where}: unknown option '{unknown[0]}'; {hint}options are {', '.join(sorted(allowed))}")


def described(declared: tuple[Option, ...]) -> str:
    """The options as a docstring's list: name (default): help."""
    lines = []
    for o in declared:
        default = o.default_text or (",".join(map(str, o.default)) if isinstance(o.default, (list, tuple))
                                     else repr(o.default))
        lines.append(f"    {o.name} ({default}): {o.help}")
    return "\n".join(lines)
