"""Your own labelled reviews: a CSV file or JSON Lines, one review per row with text and label fields.

Labels are any names or integers, two classes or more (labels.py fixes the class list). A `split`
field (train, validation (also dev, valid, val) or test) assigns rows to splits; rows without one
are split by a seeded, stratified `split_ratio` into train and test. Every error names the file
and line.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import sys
from pathlib import Path

from ...common.errors import BadInput
from ..split import stratified_split
from .labels import class_list, label_name
from .reviews import Reviews, seeded_order

SPLITS = ("train", "validation", "test")
SPLIT_NAMES = {"train": "train", "validation": "validation", "valid": "validation", "val": "validation",
               "dev": "validation", "test": "test"}


def _rows_jsonl(path: Path, raw: bytes):
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        text = line.decode("utf-8", errors="replace")
        try:
            row = json.loads(text)
        except ValueError as e:
            raise BadInput(f"{path}:{number}: bad JSON ({e.msg} at column {e.colno}); one JSON object per line")
        if not isinstance(row, dict):
            raise BadInput(f"{path}:{number}: a JSON object with fields is needed, got {type(row).__name__}")
        yield number, row, "\ufffd" in text and b"\xef\xbf\xbd" not in line


def _rows_csv(path: Path, raw: bytes):
    text = raw.decode("utf-8", errors="replace")
    replaced_lines = set()
    if "\ufffd" in text:
        for number, line in enumerate(raw.split(b"\n"), start=1):
            if "\ufffd" in line.decode("utf-8", errors="replace") and b"\xef\xbf\xbd" not in line:
                replaced_lines.add(number)
    csv.field_size_limit(sys.maxsize)  # one review may be megabytes long
    reader = csv.DictReader(io.StringIO(text.replace("\x00", ""), newline=""), strict=True)
    start = 1  # the line where the row being read begins: a bad quote is reported there, not where parsing gave up
    try:
        if not reader.fieldnames:
            raise BadInput(f"{path}: empty CSV file; the first line must name the fields, e.g. text,label")
        start = reader.line_num + 1
        for row in reader:
            if None in row:
                raise BadInput(f"{path}:{start}: more values than the header has fields")
            yield start, row, any(start <= n <= reader.line_num for n in replaced_lines)
            start = reader.line_num + 1
    except csv.Error as e:
        raise BadInput(f"{path}:{start}: malformed CSV ({e}); check the quotes of the row that starts on this line")


def read_table(path: Path, splits: list[str] | None, seed: int = 0, limit: int | None = None,
               text_field: str = "text", label_field: str = "label", split_ratio: float = 0.2,
               labels: tuple[str, ...] | None = None) -> dict[str, Reviews]:
    """{split: Reviews} for the splits asked for (None: every split the file has)."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: no such file; pass a .csv or .jsonl file with '{text_field}' and "
                       f"'{label_field}' fields")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror})")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]  # Excel and Notepad start UTF-8 files with a byte-order mark
    rows = _rows_jsonl(path, raw) if path.suffix.lower() in (".jsonl", ".ndjson") else _rows_csv(path, raw)
    found = []  # (split or None, id, text, label name, was_replaced)
    first_line = {}
    for number, row, was_replaced in rows:
        where = f"{path}:{number}"
        for field in (text_field, label_field):
            if field not in row or row[field] is None:
                option = "--text-field" if field == text_field else "--label-field"
                raise BadInput(f"{where}: field '{field}' is missing; name the right field with {option}")
        text = row[text_field]
        if not isinstance(text, str):
            raise BadInput(f"{where}: field '{text_field}' must be a string, got {type(text).__name__}")
        label = label_name(row[label_field], where, label_field)
        first_line.setdefault(label, where)
        split = None
        if "split" in row and row["split"] not in (None, ""):
            split = SPLIT_NAMES.get(str(row["split"]).strip().lower())
            if split is None:
                raise BadInput(f"{where}: field 'split' is {row['split']!r}; use train, validation (or dev) or test")
        found.append((split, f"line-{number}", text.replace("\x00", ""), label, was_replaced))
    if not found:
        raise BadInput(f"{path}: no rows; one review per row with '{text_field}' and '{label_field}' fields")
    # One class list for the whole file, so every split's labels mean the same.
    classes, index = class_list([row[3] for row in found], labels, first_line.get)
    by_split: dict[str, tuple[list, list, list, list]] = {}
    unsplit = ([], [], [], [])
    for split, row_id, text, label, was_replaced in found:
        target = unsplit if split is None else by_split.setdefault(split, ([], [], [], []))
        for column, value in zip(target, (row_id, text, index[label], was_replaced)):
            column.append(value)
    if unsplit[0]:
        if not 0 < split_ratio < 1:
            raise BadInput(f"--split-ratio {split_ratio}: must be between 0 and 1")
        for i, name in zip(stratified_split(unsplit[2], split_ratio, seed), ("train", "test")):
            part = by_split.setdefault(name, ([], [], [], []))
            for column, values in zip(part, unsplit):
                column.extend(values[j] for j in i)
    result = {}
    for split in splits or [s for s in SPLITS if s in by_split]:
        ids, texts, class_ids, replaced = by_split.get(split, ([], [], [], []))
        if not ids:
            raise BadInput(f"{path}: no rows for split '{split}'; add a 'split' field or drop it from --splits")
        result[split] = seeded_order(ids, texts, class_ids, seed=seed, limit=limit, replaced=sum(replaced),
                                     classes=classes)
    return result
