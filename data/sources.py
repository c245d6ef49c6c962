"""Which reader a `--data` value means."""
from __future__ import annotations

from pathlib import Path

from data.imdb import read_imdb
from data.reviews import Reviews
from data.tfds_source import read_tfds


def describe(source: str) -> dict:
    """What the manifest records about a source: enough to tell two sources apart."""
    if source == "tfds":
        return {"kind": "tfds", "name": "imdb_reviews"}
    path = Path(source).resolve()
    info = {"kind": "imdb-folder" if path.is_dir() else "imdb-archive", "path": str(path)}
    if path.is_file():
        stat = path.stat()
        info.update(size=stat.st_size, mtime=int(stat.st_mtime))
    return info


def read_source(source: str, splits: list[str], seed: int = 0, limit: int | None = None) -> dict[str, Reviews]:
    if source == "tfds":
        return read_tfds(splits, seed=seed, limit=limit)
    return read_imdb(Path(source), splits, seed=seed, limit=limit)
