"""Reviews given in memory through the Python API: `mlbert.extract(rows, ...)` with a list of dicts,
a dict of equal-length columns, a pandas DataFrame, a (texts, labels) pair, or a Hugging Face
`datasets.Dataset` or `DatasetDict` (its splits by name); read as a table's rows are, so the field
options, label rules and errors are a file's. Neither pandas nor datasets is imported: each is
recognised by what it offers."""
from __future__ import annotations

import dataclasses
import hashlib
import json

from ...common.errors import BadInput

ACCEPTED = ("a path, 'tfds', a list of dicts such as [{'text': ..., 'label': ...}], a dict of equal-length "
            "columns, a pandas DataFrame, a (texts, labels) pair, or a Hugging Face Dataset or DatasetDict")


@dataclasses.dataclass(frozen=True, eq=False)
class Records:
    """Rows from memory, copied once as plain dicts."""
    rows: tuple[dict, ...]

    def digest(self) -> str:
        """Their content, for the cache's fingerprint: the same rows make the same cache."""
        payload = json.dumps(self.rows, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8", errors="surrogatepass")).hexdigest()

    def __str__(self) -> str:
        return f"<{len(self.rows)} rows in memory>"

    def tabular_rows(self):
        """(where, id, row, was_replaced) for the table reader."""
        for i, row in enumerate(self.rows):
            yield f"data[{i}]", f"row-{i}", row, False


def _is_dataset(data) -> bool:
    """A Hugging Face datasets.Dataset (column_names, to_dict), without importing datasets."""
    return hasattr(data, "column_names") and hasattr(data, "to_dict") and not isinstance(data, dict)


def _dataset_dict(data) -> list[dict]:
    """A DatasetDict's rows, each with its split's name in `split` (train, validation or dev, test)."""
    found = []
    for name, part in data.items():
        if "split" in part.column_names:
            raise BadInput(f"data[{name!r}]: has a 'split' column and is a split of the DatasetDict; drop one")
        found += [{**row, "split": name} for row in records(part).rows]
    return found


def records(data) -> Records:
    """The API's data as Records, or one BadInput saying what data may be."""
    if isinstance(data, dict) and data and all(_is_dataset(v) for v in data.values()):  # a DatasetDict
        data = _dataset_dict(data)
    elif _is_dataset(data):
        data = data.to_dict()  # columns: read as a dict of columns below
    elif hasattr(data, "to_dict") and hasattr(data, "columns"):  # a pandas DataFrame, without importing pandas
        data = data.to_dict("records")
    elif isinstance(data, tuple) and len(data) == 2 and not any(isinstance(v, dict) for v in data):
        texts, labels = (list(v) if hasattr(v, "__iter__") and not isinstance(v, str) else v for v in data)
        if not isinstance(texts, list) or not isinstance(labels, list) or len(texts) != len(labels):
            raise BadInput("data: a (texts, labels) pair takes two sequences of the same length, e.g. "
                           "(['A fine film.', 'Dull.'], ['pos', 'neg'])")
        data = [{"text": t, "label": y} for t, y in zip(texts, labels)]
    if isinstance(data, dict):
        columns = {k: list(v) for k, v in data.items() if isinstance(v, (list, tuple))}
        if len(columns) != len(data) or len({len(v) for v in columns.values()}) > 1:
            got = ", ".join(f"{k}: {type(v).__name__}" for k, v in data.items())
            raise BadInput(f"data: a dict must map each field to a list of the same length, e.g. "
                           f"{{'text': [...], 'label': [...]}}; got {got}")
        data = [dict(zip(columns, values)) for values in zip(*columns.values())]
    if not isinstance(data, (list, tuple)):
        raise BadInput(f"data: {type(data).__name__} is not a data source; pass {ACCEPTED}")
    for i, row in enumerate(data):
        if not isinstance(row, dict):
            raise BadInput(f"data[{i}]: {type(row).__name__}, not a dict; each row is a dict such as "
                           "{'text': 'A fine film.', 'label': 'pos'}")
    return Records(tuple(dict(row) for row in data))
