"""Reading CSV (optionally gzipped) and Parquet inputs as Arrow batches with line numbers.

Each batch carries a ``line`` column: the physical line in a CSV file (the
header is line 1) or the 1-based row number in a Parquet file, so that every
quarantined row can be traced back to its source.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from popflow.columns import LINE
from popflow.errors import InputError

BATCH_ROWS = 4_000_000
# CSV spellings of a missing value (Arrow's, without NaN's: a NaN amount is an invalid number, not an empty field).
NULL_VALUES = ["", "#N/A", "#N/A N/A", "#NA", "N/A", "NA", "NULL", "n/a", "null"]
CSV_BLOCK = 64 << 20
FORMATS = ("csv", "parquet")


@dataclass
class MalformedRows:
    """CSV rows with the wrong number of fields, kept for the quarantine."""

    rows: list[tuple[int | None, str]] = field(default_factory=list)


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files named, with a directory standing for every file in it (sorted)."""
    files = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")))
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(path, "no such file or directory")
    if not files:
        raise InputError(", ".join(map(str, paths)), "no input files found")
    return files


def detect_format(path: Path, declared: str | None) -> str:
    """``csv`` or ``parquet``: as declared, else by the file name's suffix."""
    if declared:
        if declared not in FORMATS:
            raise InputError(path, f"unknown format '{declared}' (use csv or parquet)")
        return declared
    name = path.name.lower()
    if name.endswith(".parquet") or name.endswith(".pq"):
        return "parquet"
    return "csv"


def fingerprint(path: Path) -> str:
    """SHA-256 of a file's bytes, which makes re-ingesting the same file a no-op."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_batches(
    path: Path, fmt: str, required: tuple[str, ...], optional: tuple[str, ...],
    malformed: MalformedRows,
) -> Iterator[pa.Table]:
    """Batches of the wanted columns (absent optional ones are null), with ``line``."""
    reader = _parquet_batches if fmt == "parquet" else _csv_batches
    columns = check_header(path, fmt, required)
    wanted = [c for c in required + optional if c in columns]
    numbering = LineNumbers(first=1 if fmt == "parquet" else 2, skipped=malformed.rows)
    for batch in reader(path, wanted, malformed):
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        for name in optional:
            if name not in columns:
                table = table.append_column(name, pa.nulls(table.num_rows, pa.string()))
        yield table.append_column(LINE, numbering.take(table.num_rows))


class LineNumbers:
    """Hands out the line numbers of accepted rows, stepping over malformed lines."""

    def __init__(self, first: int, skipped: list[tuple[int | None, str]]):
        self.next, self.skipped = first, skipped

    def take(self, count: int) -> pa.Array:
        skipped = np.array([n for n, _ in self.skipped if n is not None and n >= self.next], np.int64)
        candidates = np.arange(self.next, self.next + count + len(skipped), dtype=np.int64)
        lines = candidates[~np.isin(candidates, skipped)][:count] if len(skipped) else candidates
        self.next = int(lines[-1]) + 1 if count else self.next
        return pa.array(lines, pa.int64())


def _header(path: Path, fmt: str) -> list[str]:
    try:
        if fmt == "parquet":
            return pq.ParquetFile(path).schema_arrow.names
        with pa.input_stream(str(path), compression="detect") as raw:
            first = io.TextIOWrapper(raw, encoding="utf-8-sig").readline()
        names = next(csv.reader([first]), [])
        if not names:
            raise pa.ArrowInvalid("empty file: no header row")
        return [n.strip() for n in names]
    except (pa.ArrowInvalid, OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot be read as {fmt}: {_first_line(exc)}") from exc


def check_header(path: Path, fmt: str, required: tuple[str, ...]) -> set[str]:
    """The file's column names; an error names the file when it is unreadable or lacks a required column."""
    names = _header(path, fmt)
    for name in required:
        if name not in names:
            raise InputError(path, f"required column is missing (found: {', '.join(names)})", name)
    return set(names)


def _csv_batches(path: Path, wanted: list[str], malformed: MalformedRows) -> Iterator[pa.Table]:
    def on_invalid(row):
        malformed.rows.append((row.number, row.text))
        return "skip"

    options = dict(
        read_options=pacsv.ReadOptions(block_size=CSV_BLOCK, use_threads=False),
        convert_options=pacsv.ConvertOptions(
            include_columns=wanted, column_types={c: pa.string() for c in wanted},
            strings_can_be_null=True, quoted_strings_can_be_null=False, null_values=NULL_VALUES,
        ),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, ignore_empty_lines=False),
    )
    try:
        with pacsv.open_csv(path, **options) as reader:
            yield from _rebatch(reader)
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        raise InputError(path, f"cannot be read as CSV: {_first_line(exc)}") from exc


def _parquet_batches(path: Path, wanted: list[str], malformed: MalformedRows) -> Iterator[pa.Table]:
    try:
        yield from pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=wanted)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(path, f"cannot be read as Parquet: {_first_line(exc)}") from exc


def _rebatch(reader) -> Iterator[pa.Table]:
    """Gather the CSV reader's blocks into batches of about BATCH_ROWS rows."""
    pending, rows = [], 0
    for batch in reader:
        pending.append(batch)
        rows += batch.num_rows
        if rows >= BATCH_ROWS:
            yield pa.Table.from_batches(pending)
            pending, rows = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
