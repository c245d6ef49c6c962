"""Where a feature cache lives: a local folder, or a URL such as gs://bucket/cache.

Local folders use the OS directly (fsync before rename, so a file appears whole). A URL goes
through tf.io.gfile when TensorFlow knows its scheme (gs:// is built in, ram:// is its in-memory
filesystem, which the tests use), otherwise through Apache Beam's FileSystems (s3://, hdfs://,
azfs:// with the matching apache-beam extra). Both write a temporary object and rename it, so a
reader never sees a half-written shard or manifest. Paths are plain strings: pathlib would fold
the '//' of a URL.
"""
from __future__ import annotations

import contextlib
import os
import posixpath
from pathlib import Path

from .errors import BadInput


def is_url(path) -> bool:
    return "://" in str(path)


def absolute(path) -> str:
    """What an artifact records: a URL as given, a local path absolute."""
    return str(path) if is_url(path) else str(Path(path).expanduser().resolve())


def join(base, name: str) -> str:
    return f"{str(base).rstrip('/')}/{name}" if is_url(base) else str(Path(base) / name)


def basename(path: str) -> str:
    return posixpath.basename(str(path).rstrip("/"))


def _backend(path: str):
    """'gfile' or Beam's FileSystems class, for a URL."""
    import tensorflow as tf

    scheme = str(path).split("://", 1)[0]
    if scheme in tf.io.gfile.get_registered_schemes():
        return "gfile"
    try:
        from apache_beam.io.filesystems import FileSystems

        FileSystems.get_filesystem(path)
        return FileSystems
    except ImportError:
        raise BadInput(f"{path}: TensorFlow has no filesystem for '{scheme}://'; install Apache Beam with the "
                       f"extra for it (e.g. `pip install 'apache-beam[aws]'` for s3://) or use a local folder")
    except ValueError as e:
        raise BadInput(f"{path}: no filesystem for '{scheme}://' ({e}); install the apache-beam extra for it "
                       "or use a local folder")


@contextlib.contextmanager
def _remote_errors(path):
    """A failing remote call (no such bucket, no credentials, network) as one line naming the URL."""
    import tensorflow as tf

    try:
        yield
    except (tf.errors.OpError, OSError) as e:
        message = (getattr(e, "message", None) or str(e) or type(e).__name__).strip().splitlines()[0][:300]
        raise BadInput(f"{path}: {message}; check the URL and your credentials, then run the command again")


def _gfile():
    import tensorflow as tf

    return tf.io.gfile


def exists(path) -> bool:
    if not is_url(path):
        return os.path.exists(path)
    fs = _backend(path)
    with _remote_errors(path):
        return _gfile().exists(path) if fs == "gfile" else fs.exists(path)


def read_bytes(path) -> bytes:
    if not is_url(path):
        with open(path, "rb") as f:
            return f.read()
    fs = _backend(path)
    with _remote_errors(path):
        if fs == "gfile":
            with _gfile().GFile(path, "rb") as f:
                return f.read()
        from apache_beam.io.filesystem import CompressionTypes

        with fs.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            return f.read()


def write_atomic(path, data: bytes, tag: str | None = None) -> None:
    """Write under a temporary name, then rename: the file appears whole or not at all.

    tag makes the temporary name unique per writer (default: this process's id).
    """
    path = str(path)
    parent, name = (path.rstrip("/").rsplit("/", 1) if is_url(path) else (os.path.dirname(path), basename(path)))
    tmp = join(parent or ".", f".{name}.tmp-{tag or os.getpid()}")
    if not is_url(path):
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as e:
            raise OSError(e.errno, e.strerror, path) from e  # name the file the user knows
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return
    fs = _backend(path)
    with _remote_errors(path):
        if fs == "gfile":
            with _gfile().GFile(tmp, "wb") as f:
                f.write(data)
        else:
            from apache_beam.io.filesystem import CompressionTypes

            with fs.create(tmp, compression_type=CompressionTypes.UNCOMPRESSED) as f:
                f.write(data)
    rename(tmp, path)


def delete(path) -> None:
    """Remove a file if it is there."""
    if not is_url(path):
        Path(path).unlink(missing_ok=True)
        return
    if not exists(path):
        return
    fs = _backend(path)
    with _remote_errors(path):
        if fs == "gfile":
            _gfile().remove(path)
        else:
            fs.delete([path])


def makedirs(path) -> None:
    if not is_url(path):
        Path(path).mkdir(parents=True, exist_ok=True)
        return
    fs = _backend(path)
    with _remote_errors(path):
        if fs == "gfile":
            _gfile().makedirs(path)
        elif not fs.exists(path):
            fs.mkdirs(path)  # a no-op on object stores, where folders are only name prefixes


def listdir(path) -> list[str]:
    """Names directly in a folder; [] when it does not exist."""
    if not is_url(path):
        return sorted(os.listdir(path)) if os.path.isdir(path) else []
    fs = _backend(path)
    with _remote_errors(path):
        if fs == "gfile":
            gfile = _gfile()
            return sorted(n.rstrip("/") for n in gfile.listdir(path)) if gfile.isdir(path) else []
        matches = fs.match([join(path, "*")])[0].metadata_list
        return sorted({basename(m.path) for m in matches})


def rename(src, dst) -> None:
    """Move a file, replacing dst; a failure names dst, the file the user knows."""
    if not is_url(src):
        os.replace(src, dst)
        return
    fs = _backend(src)
    with _remote_errors(dst):
        if fs == "gfile":
            _gfile().rename(src, dst, overwrite=True)
            return
        if fs.exists(dst):
            fs.delete([dst])
        fs.rename([src], [dst])


def remove_empty_folder(path) -> None:
    """A folder that holds nothing more: gone (on an object store, a prefix with no objects already is)."""
    if listdir(path):
        return
    if not is_url(path):
        with contextlib.suppress(OSError):
            os.rmdir(path)
        return
    if _backend(path) == "gfile" and _gfile().isdir(path):
        with _remote_errors(path):
            _gfile().rmtree(path)


@contextlib.contextmanager
def open_read(path):
    """A file to read in binary, seekable: locally, through tf.io.gfile or Beam's FileSystems."""
    if not is_url(path):
        with open(path, "rb") as f:
            yield f
        return
    fs = _backend(path)
    with _remote_errors(path):
        if fs == "gfile":
            with _gfile().GFile(path, "rb") as f:
                yield f
            return
        from apache_beam.io.filesystem import CompressionTypes

        with fs.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            yield f


def size(path) -> int | None:
    """A file's size in bytes; None when it is not there."""
    if not is_url(path):
        return os.path.getsize(path) if os.path.isfile(path) else None
    if not exists(path):
        return None
    fs = _backend(path)
    with _remote_errors(path):
        if fs == "gfile":
            return _gfile().stat(path).length
        return fs.match([path])[0].metadata_list[0].size_in_bytes


def glob(pattern: str) -> list[str]:
    """The files a pattern names (*, ?, [..] in the last parts, ** for any depth), sorted."""
    if not is_url(pattern):
        import glob as local_glob

        return sorted(p for p in local_glob.glob(os.path.expanduser(pattern), recursive=True) if os.path.isfile(p))
    fs = _backend(pattern)
    with _remote_errors(pattern):
        if fs == "gfile":
            return sorted(p for p in _gfile().glob(pattern) if not _gfile().isdir(p))
        return sorted(m.path for m in fs.match([pattern])[0].metadata_list)
