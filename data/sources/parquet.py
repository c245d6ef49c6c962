"""Parquet tables through pyarrow: the rows of a file, or of a range of its rows, as table rows."""
from __future__ import annotations

import hashlib

from ...common.errors import BadInput

FOOTER_TAIL = 8  # the footer's 4-byte length, then b"PAR1"


def _parquet():
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise BadInput("Parquet files need pyarrow: `pip install pyarrow` (or read CSV / JSON Lines)")
    return pq


def open_parquet(f, where: str):
    """A pyarrow ParquetFile on an open binary file; a file that is not Parquet is one BadInput."""
    pq = _parquet()
    import pyarrow as pa

    try:
        return pq.ParquetFile(f)
    except (pa.ArrowException, OSError) as e:
        raise BadInput(f"{where}: not a readable Parquet file ({str(e).splitlines()[0][:200]})")


def row_count(f, where: str) -> int:
    return open_parquet(f, where).metadata.num_rows


def footer_digest(f) -> str:
    """sha256 of the file's footer, where Parquet keeps every row group's offsets, sizes and column
    statistics: a file rewritten with other rows gets another footer, without reading its rows."""
    f.seek(0, 2)
    end = f.tell()
    f.seek(end - FOOTER_TAIL)
    tail = f.read(FOOTER_TAIL)
    length = int.from_bytes(tail[:4], "little")
    f.seek(max(0, end - FOOTER_TAIL - length))
    return hashlib.sha256(f.read(length) + tail).hexdigest()


def rows_parquet(f, where: str, fields: tuple[str, str], start: int = 0, stop: int | None = None,
                 id_prefix: str = ""):
    """(where, id, row, was_replaced) for rows [start, stop) of a Parquet file, reading only the row
    groups that hold them and only the text, label and split columns."""
    pf = open_parquet(f, where)
    names = pf.schema_arrow.names
    for field, option in zip(fields, ("--text-field", "--label-field")):
        if field not in names:
            present = ", ".join(repr(n) for n in names[:8]) or "none"
            raise BadInput(f"{where}: field '{field}' is missing (the fields are {present}); name the right field "
                           f"with {option}")
    columns = list(dict.fromkeys([*fields, *(["split"] if "split" in names else [])]))
    stop = pf.metadata.num_rows if stop is None else stop
    offset = 0
    for group in range(pf.num_row_groups):
        n = pf.metadata.row_group(group).num_rows
        lo, hi = max(start - offset, 0), min(stop - offset, n)
        if lo < hi:
            data = pf.read_row_group(group, columns=columns).slice(lo, hi - lo).to_pydict()
            for k in range(hi - lo):
                number = offset + lo + k + 1
                yield f"{where}: row {number}", f"{id_prefix}row-{number}", {c: data[c][k] for c in columns}, False
        offset += n
