"""Which classes a CSV/JSONL file's labels make, and in which order.

Labels are any strings or integers. Without --labels the classes are the labels found in the whole
file (every split), sorted: as numbers when all are integers (star ratings 1..10 in order), else
as names. --labels a,b,c gives the order explicitly (e.g. most negative to most positive), and a
row whose label is not in it is an error naming its line. Files that mix the spellings this tool
has always read for binary sentiment (0/1, neg/pos, negative/positive, any case) keep meaning
neg and pos.
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
    if given:
        if len(set(given)) != len(given):
            raise BadInput(f"--labels {','.join(given)}: a class is named twice")
        index = {name: i for i, name in enumerate(given)}
        for label in distinct:
            if label not in index:
                raise BadInput(f"{where_of(label)}: label {label!r} is not one of --labels {','.join(given)}; "
                               "add it to --labels or fix the row")
        return _checked(tuple(given)), {label: index[label] for label in distinct}
    lowered = {label.lower() for label in distinct}
    if lowered <= SENTIMENT.keys() and not any(set(distinct) <= spelling for spelling in SPELLINGS):
        return IMDB_LABELS, {label: SENTIMENT[label.lower()] for label in distinct}
    if all(INTEGER.match(label) for label in distinct):
        classes = tuple(sorted(distinct, key=int))
    else:
        classes = tuple(sorted(distinct))
    return _checked(classes), {name: i for i, name in enumerate(classes)}


def _checked(classes: tuple[str, ...]) -> tuple[str, ...]:
    if len(classes) > MAX_CLASSES:
        raise BadInput(f"{len(classes)} classes: at most {MAX_CLASSES} are supported; is --label-field the label?")
    return classes
