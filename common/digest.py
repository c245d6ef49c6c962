"""Content digests of local files and folders, streamed in blocks so a multi-GB file never sits in memory."""
from __future__ import annotations

import hashlib
from pathlib import Path

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
