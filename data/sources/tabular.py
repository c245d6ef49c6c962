"""Your own labelled reviews: a CSV file or JSON Lines, one review per row with text and label fields.

Labels are any names or integers, two classes or more (labels.py fixes the class list). A `split`
field (train, validation (also dev, valid, val) or test) assigns rows to splits; rows without one
are split by a seeded, stratified `split_ratio` into train and test. Every error names the file
and line.
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import sys
import zlib
from pathlib import Path

from ...common.errors import BadInput
from ..split import stratified_split
from .labels import class_list, label_name
from .parquet import rows_parquet
from .reviews import Reviews, seeded_order

SPLITS = ("train", "validation", "test")
SPLIT_NAMES = {"train": "train", "validation": "validation", "valid": "validation", "val": "validation",
               "dev": "validation", "test": "test"}


# What --data reads as a table, by suffix (any case; each also gzipped, name.csv.gz).
FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
           ".parquet": "parquet"}
DESCRIBED = (".csv, .tsv, .jsonl / .ndjson (one JSON object per line), .json (an array of objects), each also "
             "gzipped (.gz); or .parquet")
DELIMITERS = {",": "commas", "\t": "tabs", ";": "semicolons", "|": "bars"}


def table_format(source) -> tuple[str | None, bool]:
    """(the table's suffix, e.g. '.csv', or None when it is not a table; whether it is gzipped)."""
    name = Path(str(source)).name.lower()
    gzipped = name.endswith(".gz")
    suffix = Path(name.removesuffix(".gz")).suffix
    return (suffix if suffix in FORMATS else None), gzipped


def _rows_jsonl(path, raw: bytes, first_line: int = 1, id_prefix: str = ""):
    """(where, id, row, was_replaced) per line; first_line: the number of raw's first line in its file."""
    for number, line in enumerate(raw.split(b"\n"), start=first_line):
        if not line.strip():
            continue
        text = line.decode("utf-8", errors="replace")
        try:
            row = json.loads(text)
        except ValueError as e:
            raise BadInput(f"{path}:{number}: bad JSON ({e.msg} at column {e.colno}); one JSON object per line")
        if not isinstance(row, dict):
            raise BadInput(f"{path}:{number}: a JSON object with fields is needed, got {type(row).__name__}")
        yield f"{path}:{number}", f"{id_prefix}line-{number}", row, "\ufffd" in text and b"\xef\xbf\xbd" not in line


def _rows_json(path: Path, raw: bytes):
    """A JSON array of objects; a .json file of one object per line is read as JSON Lines."""
    if not raw.lstrip().startswith(b"["):
        yield from _rows_jsonl(path, raw)
        return
    text = raw.decode("utf-8", errors="replace")
    try:
        items = json.loads(text)
    except ValueError as e:
        raise BadInput(f"{path}:{e.lineno}: bad JSON ({e.msg} at column {e.colno}); a .json file holds an array of "
                       "objects, e.g. [{\"text\": \"...\", \"label\": \"pos\"}]")
    for number, row in enumerate(items, start=1):
        if not isinstance(row, dict):
            raise BadInput(f"{path}: item {number} of the array: a JSON object with fields is needed, got "
                           f"{type(row).__name__}")
        yield f"{path}: item {number}", f"item-{number}", row, False


def _rows_csv(path, raw: bytes, delimiter: str, fields: tuple[str, str], header: list[str] | None = None,
              first_line: int = 1, id_prefix: str = ""):
    """(where, id, row, was_replaced) per record. header: the field names, when raw is a slice of a
    file past its header line (then delimiter is the one the header was found with)."""
    text = raw.decode("utf-8", errors="replace")
    replaced_lines = set()
    if "\ufffd" in text:
        for number, line in enumerate(raw.split(b"\n"), start=first_line):
            if "\ufffd" in line.decode("utf-8", errors="replace") and b"\xef\xbf\xbd" not in line:
                replaced_lines.add(number)
    csv.field_size_limit(sys.maxsize)  # one review may be megabytes long
    if header is None:
        delimiter = _delimiter(text, delimiter, fields)
    reader = csv.DictReader(io.StringIO(text.replace("\x00", ""), newline=""), fieldnames=header, strict=True,
                            delimiter=delimiter)
    offset = first_line - 1
    # The line where the row being read begins: a bad quote is reported there, not where parsing gave up.
    start = first_line
    try:
        if not reader.fieldnames:
            kind = "TSV" if delimiter == "\t" else "CSV"
            raise BadInput(f"{path}: empty {kind} file; the first line must name the fields, e.g. text{delimiter}label")
        start = offset + reader.line_num + 1
        for row in reader:
            if None in row:
                raise BadInput(f"{path}:{start}: more values than the header has fields")
            end = offset + reader.line_num
            yield f"{path}:{start}", f"{id_prefix}line-{start}", row, any(start <= n <= end for n in replaced_lines)
            start = end + 1
    except csv.Error as e:
        kind = "TSV" if delimiter == "\t" else "CSV"
        raise BadInput(f"{path}:{start}: malformed {kind} ({e}); check the quotes of the row that starts on this line")


def _delimiter(text: str, expected: str, fields: tuple[str, str]) -> str:
    """The expected delimiter, unless the header line names both fields only when split by another
    (a tab- or semicolon-separated file named .csv, as spreadsheets save them)."""
    header = text.split("\n", 1)[0]
    for delimiter in (expected, *DELIMITERS):
        if all(f in next(csv.reader(io.StringIO(header), delimiter=delimiter), []) for f in fields):
            return delimiter
    return expected


def read_table(path: Path, splits: list[str] | None, seed: int = 0, limit: int | None = None,
               text_field: str = "text", label_field: str = "label", split_ratio: float = 0.2,
               labels: tuple[str, ...] | None = None) -> dict[str, Reviews]:
    """{split: Reviews} for the splits asked for (None: every split the file has)."""
    path = Path(path)
    if path.is_dir():
        raise BadInput(f"{path}: is a folder; pass a table file ({DESCRIBED}), or an unpacked aclImdb/ folder")
    if not path.is_file():
        raise BadInput(f"{path}: no such file; pass a table ({DESCRIBED}) with '{text_field}' and "
                       f"'{label_field}' fields")
    suffix, gzipped = table_format(path)
    fields = (text_field, label_field)
    if FORMATS[suffix] == "parquet":
        with open(path, "rb") as f:
            return read_rows(rows_parquet(f, str(path), fields), str(path), splits, seed, limit, text_field,
                             label_field, split_ratio, labels)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror})")
    if gzipped:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise BadInput(f"{path}: cannot decompress ({e}); a .gz file must be gzip-compressed")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]  # Excel and Notepad start UTF-8 files with a byte-order mark
    kind = FORMATS[suffix]
    rows = (_rows_jsonl(path, raw) if kind == "jsonl" else _rows_json(path, raw) if kind == "json" else
            _rows_csv(path, raw, "\t" if kind == "tsv" else ",", fields))
    return read_rows(rows, str(path), splits, seed, limit, text_field, label_field, split_ratio, labels)


def checked_row(where: str, row: dict, text_field: str, label_field: str) -> tuple[str, str, str | None]:
    """(text, label name, split named by the row or None) of one row, or a BadInput naming where it is."""
    for field in (text_field, label_field):
        option = "--text-field" if field == text_field else "--label-field"
        if field not in row:
            present = ", ".join(repr(f) for f in list(row)[:8]) or "none"
            raise BadInput(f"{where}: field '{field}' is missing (the fields are {present}); name the right "
                           f"field with {option}")
        if row[field] is None:
            raise BadInput(f"{where}: field '{field}' has no value (null, or a row with fewer values than the "
                           f"header); every row needs a {'text' if field == text_field else 'label'}")
    text = row[text_field]
    if not isinstance(text, str):
        raise BadInput(f"{where}: field '{text_field}' must be a string, got {type(text).__name__}")
    label = label_name(row[label_field], where, label_field)
    split = None
    if "split" in row and row["split"] not in (None, ""):
        split = SPLIT_NAMES.get(str(row["split"]).strip().lower())
        if split is None:
            raise BadInput(f"{where}: field 'split' is {row['split']!r}; use train, validation (or dev) or test")
    return text.replace("\x00", ""), label, split


def read_rows(rows, source: str, splits: list[str] | None, seed: int = 0, limit: int | None = None,
              text_field: str = "text", label_field: str = "label", split_ratio: float = 0.2,
              labels: tuple[str, ...] | None = None) -> dict[str, Reviews]:
    """{split: Reviews} from (where, id, row dict, was_replaced) tuples: a file's rows, or the API's
    rows from memory. source: what errors name (a file's path, or 'data')."""
    found = []  # (split or None, id, text, label name, was_replaced)
    first_line = {}
    for where, row_id, row, was_replaced in rows:
        text, label, split = checked_row(where, row, text_field, label_field)
        first_line.setdefault(label, where)
        found.append((split, row_id, text, label, was_replaced))
    if not found:
        raise BadInput(f"{source}: no rows; one review per row with '{text_field}' and '{label_field}' fields")
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
            if splits:
                raise BadInput(f"{source}: no rows for split '{split}'; add a 'split' field or drop it from --splits")
            raise BadInput(f"{source}: no rows for split '{split}' ({len(found)} rows in all, split by --split-ratio "
                           f"{split_ratio}); add rows, or a 'split' field saying which are {split}")
        result[split] = seeded_order(ids, texts, class_ids, seed=seed, limit=limit, replaced=sum(replaced),
                                     classes=classes)
    return result
