"""Where reviews come from: which reader a `--data` value means (tfds, an IMDB archive or folder,
a CSV / JSON Lines file), and what a cache records about it."""
from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

from ...common.digest import sha256_file
from ...common.errors import BadInput
from .corpus import is_corpus
from .imdb import read_imdb
from .memory import Records, records
from .reviews import Reviews
from .tabular import DESCRIBED, read_rows, read_table, table_format
from .tfds import read_tfds

ARCHIVES = (".tar.gz", ".tgz", ".tar")
DEFAULT_SOURCE = "tfds"  # the original recipe's own: tfds.load("imdb_reviews")


@dataclasses.dataclass(frozen=True)
class TableOptions:
    """How to read a CSV / JSONL file; they shape the data, so the cache fingerprint includes them."""
    text_field: str = "text"
    label_field: str = "label"
    split_ratio: float = 0.2
    labels: tuple[str, ...] | None = None  # the classes in this order; None: sorted from the file

    def fingerprint(self) -> dict:
        """What the cache's fingerprint records; unset labels are left out, so caches made before
        --labels existed keep their fingerprint."""
        fields = dataclasses.asdict(self)
        if self.labels is None:
            del fields["labels"]
        else:
            fields["labels"] = list(self.labels)
        return fields


def is_table(source) -> bool:
    """One table: a file, or rows from memory (a folder or glob of tables is a corpus)."""
    return isinstance(source, Records) or (not is_corpus(source) and table_format(source)[0] is not None)


def as_source(data):
    """What the API's data names: a path or 'tfds' as a string, rows from memory as Records."""
    if isinstance(data, os.PathLike):
        return os.fspath(data)
    return data if isinstance(data, (str, Records)) else records(data)


def describe(source, table: TableOptions = TableOptions()) -> dict:
    """What a cache's fingerprint records about a source: its content, not where it lies or when it
    was copied. A dataset moved, copied or re-downloaded keeps its caches; an edited one does not.

    A file is hashed whole (a second or so per GB); a folder by its file names and sizes.
    """
    if source == "tfds":
        return {"kind": "tfds", "name": "imdb_reviews"}
    if isinstance(source, Records):
        return {"kind": "memory", **table.fingerprint(), "rows": len(source.rows), "sha256": source.digest()}
    path = Path(source).resolve()
    if is_table(source):
        suffix, gzipped = table_format(source)
        info = {"kind": suffix.lstrip("."), **({"gzip": True} if gzipped else {}), **table.fingerprint()}
    else:
        info = {"kind": "imdb-folder" if path.is_dir() else "imdb-archive"}
    if path.is_file():
        info.update(size=path.stat().st_size, sha256=sha256_file(path))
    elif path.is_dir():
        listing = sorted((os.path.relpath(os.path.join(root, name), path), os.path.getsize(os.path.join(root, name)))
                         for root, _, names in os.walk(path) for name in names)
        info.update(files=len(listing), listing_sha256=hashlib.sha256(repr(listing).encode()).hexdigest())
    return info


def location(source: str) -> str:
    """Where a source was read from, for the manifest's record (not its fingerprint)."""
    if isinstance(source, Records):
        return str(source)
    return source if source == "tfds" else str(Path(source).resolve())


def read_source(source, splits: list[str] | None, seed: int = 0, limit: int | None = None,
                table: TableOptions = TableOptions()) -> dict[str, Reviews]:
    """{split: Reviews} for the splits asked for; None means every split the source has."""
    if isinstance(source, Records):
        return read_rows(source.tabular_rows(), "data", splits, seed=seed, limit=limit, text_field=table.text_field,
                         label_field=table.label_field, split_ratio=table.split_ratio, labels=table.labels)
    if is_table(source):
        return read_table(Path(source), splits, seed=seed, limit=limit, text_field=table.text_field,
                          label_field=table.label_field, split_ratio=table.split_ratio, labels=table.labels)
    if table.labels:
        raise BadInput(f"--labels {','.join(table.labels)}: applies to CSV / JSONL files; IMDB's classes are "
                       "neg and pos")
    if source == "tfds":
        return read_tfds(splits, seed=seed, limit=limit)
    path = Path(source)
    if path.is_file() and not path.name.lower().endswith(ARCHIVES):
        raise BadInput(f"{source}: not a format this tool reads; --data takes 'tfds', an IMDB archive "
                       f"(aclImdb_v1.tar.gz) or its unpacked aclImdb/ folder, or a table: {DESCRIBED}")
    return read_imdb(path, splits, seed=seed, limit=limit)
