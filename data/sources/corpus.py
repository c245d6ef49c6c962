"""A corpus of many table files (a folder, or a glob; JSON Lines, CSV / TSV, Parquet), read in slices:
the driver plans them, and each worker reads its own.

Planning streams every file once, one slice in memory at a time: it cuts each file into slices of
`shard_size` rows at record boundaries (lines in JSON Lines, lines outside quotes in CSV, row counts
in Parquet), hashes each slice's bytes, and checks every row (fields, label, split), keeping only
counts. A worker then reads its slice alone (a seek and a read), checks that they are the bytes that
were planned, and gets the same rows in the same order. Which review lands in which shard therefore
depends on the files alone, so a rerun writes only what is missing.

A row without a `split` field is test when a seeded hash of its id falls below --split-ratio (so
each label's test share is the ratio in expectation): a worker decides it alone. Ids are the file's
name in the corpus and the row's line (or row) number, e.g. `part-003.jsonl:line-17`.
"""
from __future__ import annotations

import codecs
import csv
import dataclasses
import gzip
import hashlib
import io
import os
from pathlib import Path

from ...common import storage
from ...common.digest import id_hashes
from ...common.errors import BadInput
from .labels import class_list
from .parquet import footer_digest, row_count, rows_parquet
from .tabular import SPLITS, _delimiter, _rows_csv, _rows_jsonl, checked_row

# What a corpus holds, by suffix (any case); the text formats also gzipped. A .json array cannot be
# cut at line boundaries, so a corpus takes JSON Lines.
KINDS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".parquet": "parquet"}
GLOB = set("*?[")
DESCRIBED = ".jsonl / .ndjson, .csv, .tsv (each also gzipped, .gz) and .parquet files"


def is_corpus(source) -> bool:
    """A glob, or a folder of table files (not an unpacked aclImdb/): many files, read in slices."""
    text = str(source)
    if any(c in GLOB for c in text):
        return True
    if storage.is_url(text):
        return text.endswith("/")
    path = Path(text)
    imdb = any((path / prefix / split).is_dir() for prefix in ("", "aclImdb") for split in ("train", "test"))
    return path.is_dir() and not imdb


def kind_of(name: str) -> tuple[str | None, bool]:
    lower = name.lower()
    gzipped = lower.endswith(".gz")
    kind = KINDS.get(os.path.splitext(lower.removesuffix(".gz"))[1])
    return (None if kind == "parquet" and gzipped else kind), gzipped


@dataclasses.dataclass(frozen=True)
class CorpusFile:
    path: str  # absolute, or a URL
    name: str  # relative to the corpus root: what ids and the fingerprint use
    kind: str
    gzip: bool


def list_files(source: str) -> list[CorpusFile]:
    """The corpus's files, sorted by name. A folder gives every table file under it; a glob, the files
    it matches (each must be a table)."""
    text = str(source)
    if any(c in GLOB for c in text):
        found = storage.glob(text)
        cut = min(text.find(c) for c in GLOB if c in text)
        root = text[:cut].rsplit("/", 1)[0] if "/" in text[:cut] else ""
        for path in found:
            if kind_of(path)[0] is None:
                raise BadInput(f"--data {text}: matches {path}, which is not a table this tool reads in a corpus; "
                               f"use {DESCRIBED}, or a narrower pattern")
    elif storage.is_url(text):
        root = text.rstrip("/")
        found = [storage.join(root, name) for name in storage.listdir(root) if kind_of(name)[0]]
    else:
        root = text
        found = sorted(str(p) for p in Path(text).rglob("*") if p.is_file() and kind_of(p.name)[0])
    if not found:
        raise BadInput(f"--data {text}: no {DESCRIBED} found; check the folder or the pattern")
    files = []
    for path in found:
        absolute = storage.absolute(path)
        name = (os.path.relpath(path, root or ".") if not storage.is_url(path) else
                path[len(root):].lstrip("/") if root and path.startswith(root) else storage.basename(path))
        kind, gzipped = kind_of(path)
        files.append(CorpusFile(absolute, Path(name).as_posix(), kind, gzipped))
    return sorted(files, key=lambda f: f.name)


@dataclasses.dataclass
class Slice:
    """Some consecutive rows of one file: what a worker reads, and what planning found in them."""
    path: str
    name: str
    kind: str
    gzip: bool
    start: int  # bytes of the (decompressed) file; Parquet: rows
    stop: int
    first: int  # the line (Parquet: row) number of its first row
    digest: str  # sha256 of bytes [start, stop); Parquet: of the file's footer
    header: list[str] | None = None  # CSV / TSV: the field names, from the file's first line
    delimiter: str | None = None
    found: dict = dataclasses.field(default_factory=dict)  # {split: {"labels": {name: n}, "replaced": n, "empty": n}}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Corpus:
    """The plan of a corpus: its files, its slices, its classes and what each split holds."""
    source: str
    files: list[dict]  # name, size, sha256 per file: the fingerprint's record of the data
    slices: list[Slice]
    classes: tuple[str, ...]
    index: dict[str, int]  # label as written -> class index
    take: list[dict[str, int]]  # per slice: how many of its rows of each split are extracted (--limit)

    def splits(self) -> list[str]:
        return [s for s in SPLITS if any(t.get(s) for t in self.take)]

    def counts(self, split: str) -> dict:
        """What Reviews.counts() says of an in-memory split."""
        labels, replaced, empty = {name: 0 for name in self.classes}, 0, 0
        for piece, take in zip(self.slices, self.take):
            found = piece.found.get(split)
            if not take.get(split):
                continue
            for label, n in found["labels"].items():
                labels[self.classes[self.index[label]]] += n
            replaced, empty = replaced + found["replaced"], empty + found["empty"]
        return {"total": sum(labels.values()), "labels": labels, "replaced_utf8": replaced, "empty": empty}

    def describe(self, table_fingerprint: dict) -> dict:
        listing = [[f["name"], f["size"], f["sha256"]] for f in self.files]
        return {"kind": "corpus", **table_fingerprint, "files": len(listing),
                "listing_sha256": hashlib.sha256(repr(listing).encode()).hexdigest()}


def _open(path: str, gzipped: bool, stack):
    f = stack.enter_context(storage.open_read(path))
    return stack.enter_context(gzip.GzipFile(fileobj=f)) if gzipped else f


def _records(f, kind: str):
    """(record bytes, lines, blank) of a text file in order; a CSV record may span lines (quotes)."""
    pending, lines, quotes = [], 0, 0
    for line in f:
        if kind == "jsonl":
            yield line, 1, not line.strip()
            continue
        pending.append(line)
        lines += 1
        quotes += line.count(b'"')
        if quotes % 2 == 0:  # outside quotes: the record ends with this line
            record = b"".join(pending)
            yield record, lines, not record.strip()
            pending, lines, quotes = [], 0, 0
    if pending:
        yield b"".join(pending), lines, False


def _rows_of(piece: Slice, raw: bytes, fields: tuple[str, str]):
    where = f"{piece.path}"
    prefix = f"{piece.name}:"
    if piece.kind == "jsonl":
        return _rows_jsonl(where, raw, piece.first, prefix)
    return _rows_csv(where, raw, piece.delimiter, fields, piece.header, piece.first, prefix)


def _split_of(row_split: str | None, row_id: str, ratio: float, seed: int) -> str:
    if row_split is not None:
        return row_split
    return "test" if int(id_hashes([row_id], seed)[0]) < ratio * 2.0 ** 64 else "train"


@dataclasses.dataclass
class _Tally:
    """What planning keeps of the rows: per slice, counts per split and label; where each label is
    first; and, under --limit, how many rows of each split are taken so far (the first N in file order)."""
    fields: tuple[str, str]
    ratio: float
    seed: int
    limit: int | None
    first_seen: dict = dataclasses.field(default_factory=dict)
    taken: dict = dataclasses.field(default_factory=dict)
    present: set = dataclasses.field(default_factory=set)

    def add(self, piece: Slice, rows) -> None:
        for where, row_id, row, was_replaced in rows:
            text, label, row_split = checked_row(where, row, *self.fields)
            self.first_seen.setdefault(label, where)
            split = _split_of(row_split, row_id, self.ratio, self.seed)
            self.present.add(split)
            if self.limit is not None and self.taken.get(split, 0) >= self.limit:
                continue
            self.taken[split] = self.taken.get(split, 0) + 1
            found = piece.found.setdefault(split, {"labels": {}, "replaced": 0, "empty": 0})
            found["labels"][label] = found["labels"].get(label, 0) + 1
            found["replaced"] += bool(was_replaced)
            found["empty"] += not text.strip()


def _plan_text_file(file: CorpusFile, shard_size: int, tally: _Tally, digest) -> list[Slice]:
    import contextlib

    slices = []
    with contextlib.ExitStack() as stack:
        f = _open(file.path, file.gzip, stack)
        offset, line, header, delimiter = 0, 1, None, None
        records = _records(f, file.kind)
        if file.kind != "jsonl":
            for record, lines, blank in records:
                digest.update(record)
                offset, line = offset + len(record), line + lines
                text = record.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace")
                delimiter = _delimiter(text, "\t" if file.kind == "tsv" else ",", tally.fields)
                header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
                break
            if header is None:
                raise BadInput(f"{file.path}: empty {file.kind.upper()} file; the first line must name the fields, "
                               "e.g. text,label")
        chunk, start, first, rows = [], offset, line, 0
        for record, lines, blank in records:
            digest.update(record)
            if offset == 0 and record.startswith(codecs.BOM_UTF8):
                record = record[len(codecs.BOM_UTF8):]  # Excel and Notepad start UTF-8 files with a byte-order mark
                start = offset = len(codecs.BOM_UTF8)
            chunk.append(record)
            offset, line, rows = offset + len(record), line + lines, rows + (not blank)
            if rows == shard_size:
                slices.append(_slice(file, chunk, start, offset, first, header, delimiter, tally))
                chunk, start, first, rows = [], offset, line, 0
        if rows:
            slices.append(_slice(file, chunk, start, offset, first, header, delimiter, tally))
    return slices


def _slice(file, chunk, start, stop, first, header, delimiter, tally: _Tally) -> Slice:
    raw = b"".join(chunk)
    piece = Slice(file.path, file.name, file.kind, file.gzip, start, stop, first, hashlib.sha256(raw).hexdigest(),
                  header, delimiter)
    tally.add(piece, _rows_of(piece, raw, tally.fields))
    return piece


def _plan_parquet(file: CorpusFile, shard_size: int, tally: _Tally, digest) -> list[Slice]:
    slices = []
    with storage.open_read(file.path) as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
        footer, n = footer_digest(f), row_count(f, file.path)
        for start in range(0, n, shard_size):
            piece = Slice(file.path, file.name, "parquet", False, start, min(n, start + shard_size), start + 1, footer)
            tally.add(piece, rows_parquet(f, file.path, tally.fields, start, piece.stop, f"{file.name}:"))
            slices.append(piece)
    return slices


def plan_corpus(source: str, splits: list[str] | None, shard_size: int, limit: int | None, text_field: str,
                label_field: str, split_ratio: float, labels: tuple[str, ...] | None, seed: int) -> Corpus:
    """The slices of a corpus and what they hold, every row checked: see the module's docstring."""
    if not 0 < split_ratio < 1:
        raise BadInput(f"--split-ratio {split_ratio}: must be between 0 and 1")
    tally = _Tally((text_field, label_field), split_ratio, seed, limit)
    slices, files = [], []
    for file in list_files(source):
        digest = hashlib.sha256()
        plan = _plan_parquet if file.kind == "parquet" else _plan_text_file
        slices += plan(file, shard_size, tally, digest)
        files.append({"name": file.name, "size": storage.size(file.path), "sha256": digest.hexdigest()})
    if not tally.first_seen:
        raise BadInput(f"--data {source}: no rows; one review per row with '{text_field}' and '{label_field}' fields")
    classes, index = class_list(list(tally.first_seen), labels, tally.first_seen.get)
    for split in splits or []:
        if split not in tally.present:
            raise BadInput(f"--data {source}: no rows for split '{split}'; add a 'split' field or drop it from "
                           "--splits")
    wanted = splits or [s for s in SPLITS if s in tally.present]
    take = [{split: sum(piece.found.get(split, {}).get("labels", {}).values()) for split in wanted} for piece in slices]
    return Corpus(str(source), files, slices, classes, index, take)


def read_slice(piece: dict, fields: tuple[str, str], split_ratio: float, seed: int, take: dict[str, int]):
    """A worker's read: {split: (ids, texts, label names)} of one slice, the first take[split] rows of
    each split in file order. A file gone or changed since planning is refused by name."""
    import contextlib

    piece = Slice(**piece)
    advice = "restore it, or run the command again with --overwrite to make a cache of the files as they are now"
    with contextlib.ExitStack() as stack:
        try:
            f = _open(piece.path, piece.gzip, stack)
        except (BadInput, OSError):
            raise BadInput(f"{piece.path}: gone since extract planned its shards; {advice}")
        if piece.kind == "parquet":
            if footer_digest(f) != piece.digest:
                raise BadInput(f"{piece.path}: changed since extract planned its shards; {advice}")
            rows = list(rows_parquet(f, piece.path, fields, piece.start, piece.stop, f"{piece.name}:"))
        else:
            f.seek(piece.start)
            raw = f.read(piece.stop - piece.start)
            if hashlib.sha256(raw).hexdigest() != piece.digest:
                raise BadInput(f"{piece.path}: changed since extract planned its shards (bytes {piece.start}-"
                               f"{piece.stop} differ); {advice}")
            rows = list(_rows_of(piece, raw, fields))
    parts = {split: ([], [], []) for split in take}
    for where, row_id, row, _ in rows:
        text, label, row_split = checked_row(where, row, *fields)
        split = _split_of(row_split, row_id, split_ratio, seed)
        part = parts.get(split)
        if part is not None and len(part[0]) < take[split]:
            for column, value in zip(part, (row_id, text, label)):
                column.append(value)
    return parts

