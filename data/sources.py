"""Which reader a `--data` value means: tfds, an IMDB archive or folder, or a CSV / JSON Lines file."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from data.imdb import read_imdb
from data.reviews import Reviews
from data.tabular import read_table
from data.tfds_source import read_tfds

TABLE_SUFFIXES = (".csv", ".jsonl", ".ndjson")


@dataclasses.dataclass(frozen=True)
class TableOptions:
    """How to read a CSV / JSONL file; they shape the data, so the cache fingerprint includes them."""
    text_field: str = "text"
    label_field: str = "label"
    split_ratio: float = 0.2


def is_table(source: str) -> bool:
    return Path(source).suffix.lower() in TABLE_SUFFIXES


def describe(source: str, table: TableOptions = TableOptions()) -> dict:
    """What the manifest records about a source: enough to tell two sources apart."""
    if source == "tfds":
        return {"kind": "tfds", "name": "imdb_reviews"}
    path = Path(source).resolve()
    if is_table(source):
        info = {"kind": path.suffix.lower().lstrip("."), "path": str(path), **dataclasses.asdict(table)}
    else:
        info = {"kind": "imdb-folder" if path.is_dir() else "imdb-archive", "path": str(path)}
    if path.is_file():
        stat = path.stat()
        info.update(size=stat.st_size, mtime=int(stat.st_mtime))
    return info


def read_source(source: str, splits: list[str], seed: int = 0, limit: int | None = None,
                table: TableOptions = TableOptions()) -> dict[str, Reviews]:
    if source == "tfds":
        return read_tfds(splits, seed=seed, limit=limit)
    if is_table(source):
        return read_table(Path(source), splits, seed=seed, limit=limit, text_field=table.text_field,
                          label_field=table.label_field, split_ratio=table.split_ratio)
    return read_imdb(Path(source), splits, seed=seed, limit=limit)
