"""The IMDB review archive in its official layout: aclImdb_v1.tar.gz read in place, or aclImdb/ unpacked."""
from __future__ import annotations

import re
import tarfile
from pathlib import Path

from ...common.errors import BadInput
from .reviews import Reviews, decode, seeded_order

# aclImdb/<split>/<pos|neg>/<id>_<rating>.txt ; the prefix folder may be absent in an unpacked copy.
IMDB_SPLITS = ("train", "test")
MEMBER = re.compile(r"(?:^|/)(train|test)/(pos|neg)/(\d+_\d+)\.txt$")


def _collect(entries, splits):
    """entries: iterable of (name, read_bytes callable). Returns {split: (ids, texts, labels, replaced)}."""
    found = {s: ([], [], [], 0) for s in splits}
    for name, read in entries:
        m = MEMBER.search(name)
        if not m or m.group(1) not in found:
            continue
        split, label, stem = m.groups()
        text, was_replaced = decode(read())
        ids, texts, labels, replaced = found[split]
        ids.append(f"{split}/{label}/{stem}")
        texts.append(text)
        labels.append(1 if label == "pos" else 0)
        found[split] = (ids, texts, labels, replaced + was_replaced)
    return found


def _tar_entries(path: Path):
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                if member.isfile() and member.name.endswith(".txt"):
                    yield member.name, tar.extractfile(member).read
    except (tarfile.TarError, EOFError, OSError) as e:
        reason = (str(e).splitlines() or [type(e).__name__])[0].rstrip(":")
        raise BadInput(f"{path}: cannot read the archive ({reason}); pass aclImdb_v1.tar.gz or an unpacked aclImdb/")


def _dir_entries(path: Path):
    for file in sorted(path.rglob("*.txt")):
        yield file.relative_to(path).as_posix(), file.read_bytes


def read_imdb(path: Path, splits: list[str] | None, seed: int = 0, limit: int | None = None) -> dict[str, Reviews]:
    """{split: Reviews} of train and/or test (None: both); labels are neg and pos."""
    path = Path(path)
    splits = check_imdb_splits(splits, str(path))
    if not path.exists():
        raise BadInput(f"{path}: no such file or folder; pass --data tfds, an aclImdb_v1.tar.gz "
                       "archive or an unpacked aclImdb/ folder")
    entries = _dir_entries(path) if path.is_dir() else _tar_entries(path)
    found = _collect(entries, splits)
    result = {}
    for split, (ids, texts, labels, replaced) in found.items():
        if not ids:
            raise BadInput(f"{path}: not an IMDB archive in the official layout, no "
                           f"aclImdb/{split}/pos|neg/<id>_<rating>.txt reviews found")
        result[split] = seeded_order(ids, texts, labels, seed=seed, limit=limit, replaced=replaced)
    return result


def check_imdb_splits(splits: list[str] | None, source: str) -> list[str]:
    """IMDB has a train and a test split; validation rows are carved from train by `train`."""
    for split in splits or ():
        if split not in IMDB_SPLITS:
            raise BadInput(f"--splits {','.join(splits)}: {source} has the splits train and test only (`train` "
                           "holds out validation rows from train itself)")
    return list(splits or IMDB_SPLITS)
