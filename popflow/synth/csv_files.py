"""Plain CSV output: an unquoted header row, then rows without quoting.

Every synthetic value is free of commas, quotes and line breaks, so no quoting is
needed; the files look like a typical operator export. Gzip output is one gzip
member per file with a zero timestamp, so equal content gives identical bytes.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

GZIP_LEVEL = 1  # fast: event files are large and compress well even at level 1
_NO_QUOTES = pacsv.WriteOptions(include_header=False, quoting_style="none")


def header_line(names: list[str]) -> bytes:
    return (",".join(names) + "\n").encode()


def csv_rows(table: pa.Table) -> bytes:
    """The table's rows as CSV text without header."""
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, _NO_QUOTES)
    return sink.getvalue()


def write_csv(table: pa.Table, path: Path) -> None:
    """Write a whole table as one plain CSV file with a header row."""
    with open(path, "wb") as handle:
        handle.write(header_line(table.column_names))
        handle.write(csv_rows(table))


class GzipCsvFile:
    """A gzip-compressed CSV file written table by table."""

    def __init__(self, path: Path, names: list[str]):
        self._handle = open(path, "wb")
        self._deflate = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: gzip framing
        self._handle.write(self._deflate.compress(header_line(names)))

    def write(self, table: pa.Table) -> None:
        self._handle.write(self._deflate.compress(csv_rows(table)))

    def close(self) -> None:
        self._handle.write(self._deflate.flush())
        self._handle.close()


def write_gzip_csv(table: pa.Table, path: Path) -> None:
    """Write a whole table as one gzip CSV file with a header row."""
    file = GzipCsvFile(path, table.column_names)
    file.write(table)
    file.close()


def month_slices(months: np.ndarray) -> list[tuple[str, slice]]:
    """(`YYYY-MM`, rows) of each month of `months` (datetime64[M], rows in month order)."""
    starts = np.concatenate([[0], np.flatnonzero(months[1:] != months[:-1]) + 1, [len(months)]]).tolist()
    return [(str(months[begin]), slice(begin, end)) for begin, end in zip(starts[:-1], starts[1:], strict=True)]
