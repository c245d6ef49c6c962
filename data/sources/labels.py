"""Which classes a CSV/JSONL file's labels make, and in which order.

Labels are any strings or integers. One rule for every label: surrounding spaces are dropped and
case does not tell classes apart ('Neutral' and 'neutral ' are one class, named as first written).
Without --labels the classes are the labels found in the whole file (every split), sorted: as
numbers when all are integers (star ratings 1..10 in order), else as names. --labels a,b,c gives
the order explicitly (e.g. most negative to most positive), and a row whose label is not in it is
an error naming its line. Files that mix the spellings this tool has always read for binary
sentiment (0/1, neg/pos, negative/positive) keep meaning neg and pos.
"""
from __future__ import annotations

import re

from ...common.errors import BadInput
from .reviews import IMDB_LABELS

MAX_CLASSES = 127  # labels are stored as int8
SENTIMENT = {"0": 0, "1": 1, "neg": 0, "pos": 1, "negative": 0, "positive": 1}
SPELLINGS = ({"0", "1"}, {"neg", "pos"}, {"negative", "positive"})
INTEGER = re.compile(r"-?\d+$")


def label_name(value, where: str, field: str) -> str:
    """A row's label as a class name: strings stripped, integers (JSON numbers too) as digits."""
    if isinstance(value, bool) or isinstance(value, (list, dict)):
        raise BadInput(f"{where}: field '{field}' is {value!r}; a label is a name or an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise BadInput(f"{where}: field '{field}' is {value!r}; a label is a name or an integer")
        value = int(value)
    name = str(value).strip()
    if not name:
        raise BadInput(f"{where}: field '{field}' is empty; every row needs a label")
    return name


def class_list(found: list[str], given: tuple[str, ...] | None, where_of) -> tuple[tuple[str, ...], dict[str, int]]:
    """(classes, {label as written: class index}) for the labels found, in file order.

    where_of(label) names the first line holding a label, for errors.
    """
    distinct = list(dict.fromkeys(found))
    first: dict[str, str] = {}
    for label in distinct:
        first.setdefault(label.casefold(), label)
    named = {label: first[label.casefold()] for label in distinct}  # each spelling -> its class's name
    names = list(dict.fromkeys(named.values()))
    if given:
        if len({name.casefold() for name in given}) != len(given):
            raise BadInput(f"--labels {','.join(given)}: a class is named twice (case does not tell classes apart)")
        index = {name.casefold(): i for i, name in enumerate(given)}
        for label in names:
            if label.casefold() not in index:
                raise BadInput(f"{where_of(label)}: label {label!r} is not one of --labels {','.join(given)}; "
                               "add it to --labels or fix the row")
        return _checked(tuple(given)), {label: index[label.casefold()] for label in distinct}
    lowered = {label.lower() for label in names}
    if lowered <= SENTIMENT.keys() and not any(set(names) <= spelling for spelling in SPELLINGS):
        return IMDB_LABELS, {label: SENTIMENT[label.lower()] for label in distinct}
    if all(INTEGER.match(label) for label in names):
        classes = tuple(sorted(names, key=int))
    else:
        classes = tuple(sorted(names))
    position = {name: i for i, name in enumerate(classes)}
    return _checked(classes), {label: position[named[label]] for label in distinct}


def _checked(classes: tuple[str, ...]) -> tuple[str, ...]:
    if len(classes) > MAX_CLASSES:
        raise BadInput(f"{len(classes)} classes: at most {MAX_CLASSES} are supported; is --label-field the label?")
    return classes


def untrained_classes(per_split: dict[str, dict[str, int]]) -> str | None:
    """A warning when a class has rows in some split but none in train: a model trained there can
    never predict it. per_split: {split: {class: reviews}}."""
    train = per_split.get("train")
    if train is None:
        return None
    missing = [name for name, n in train.items() if n == 0]
    if not missing:
        return None
    where = {name: ", ".join(f"{counts.get(name, 0)} in {split}" for split, counts in per_split.items()
                             if split != "train" and counts.get(name)) for name in missing}
    named = "; ".join(f"'{name}' ({where[name] or 'in no split'})" for name in missing)
    return (f"class {named} has no training rows: a model trained on this data can never predict it; add "
            "training rows of it, or leave it out of --labels")
