"""Content digests of local files and folders, streamed in blocks so a multi-GB file never sits in memory."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

BLOCK = 1 << 22


def feed_file(digest, path) -> None:
    """Add a file's bytes to a running hashlib digest."""
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            digest.update(block)


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    feed_file(digest, path)
    return digest.hexdigest()


def sha256_folder(path) -> str:
    """Every file's relative name and bytes, in sorted order: equal folders give equal digests."""
    path = Path(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode())
        feed_file(digest, file)
    return digest.hexdigest()


def id_hashes(ids: list[str], seed: int) -> np.ndarray:
    """uint64 per id, keyed by the seed: the same id and seed always give the same number. Rows are
    assigned to splits by it, so that each row's split depends on nothing but its id."""
    key = seed.to_bytes(8, "little", signed=True)
    return np.array([int.from_bytes(hashlib.blake2b(i.encode("utf-8"), digest_size=8, key=key).digest(), "little")
                     for i in ids], np.uint64)
