"""Content digests of local files, streamed in blocks so a multi-GB archive never sits in memory."""
from __future__ import annotations

import hashlib

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
