"""Reading CSV (optionally gzipped) and Parquet inputs as Arrow batches with line numbers.

Each batch carries a ``line`` column: the physical line in a CSV file where
the row starts (the header is line 1; a quoted value holding line breaks makes
its row span several lines) or the 1-based row number in a Parquet file, so
that every quarantined row can be traced back to its source.
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
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from popflow.columns import LINE
from popflow.errors import InputError
from popflow.ingest.column_map import file_names

BATCH_ROWS = 4_000_000
# CSV spellings of a missing value (Arrow's, without NaN's: a NaN amount is an invalid number, not an empty field).
NULL_VALUES = ["", "#N/A", "#N/A N/A", "#NA", "N/A", "NA", "NULL", "n/a", "null"]
CSV_BLOCK = 64 << 20
FORMATS = ("csv", "parquet")


@dataclass
class MalformedRows:
    """CSV rows with the wrong number of fields, kept for the quarantine (by line once the file is read).

    While the file is read, a row's number counts records (the header is 1);
    ``breaks`` holds the line breaks inside quoted values of every record that
    has some, malformed or not, from which ``LineNumbers`` gives lines.
    """

    rows: list[tuple[int | None, str]] = field(default_factory=list)
    breaks: dict[int, int] = field(default_factory=dict)


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
    malformed: MalformedRows, columns: dict[str, str] | None = None,
) -> Iterator[pa.Table]:
    """Batches of the wanted columns under popflow's names (absent optional ones are null), with ``line``.

    ``columns`` maps popflow's names to the file's own (``column_map``).
    """
    header = check_header(path, fmt, required, optional, columns)
    present = set(header)
    sources = {n: f for n, f in file_names(required + optional, columns or {}).items() if f in present}
    wanted = [n for n in required + optional if n in sources]
    if fmt == "parquet":
        batches, numbering = _parquet_batches(path, list(sources.values())), LineNumbers(first=1,
                                                                                       skipped=malformed.rows)
    else:  # a quoted value of a column popflow does not read may hold line breaks too: then read every column
        every = not present <= set(sources.values()) and _has_quotes(path)
        batches = _csv_batches(path, list(sources.values()), malformed, every)
        numbering = LineNumbers(first=2, skipped=malformed.rows, breaks=malformed.breaks)
    for batch in batches:
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        breaks = line_breaks(table) if fmt == "csv" else None
        table = (table.rename_columns([n.strip() for n in table.column_names])
                 .select([sources[n] for n in wanted]).rename_columns(wanted))
        for name in optional:
            if name not in sources:
                table = table.append_column(name, pa.nulls(table.num_rows, pa.string()))
        yield table.append_column(LINE, numbering.take(table.num_rows, breaks))
    malformed.rows[:] = numbering.malformed_lines()


class LineNumbers:
    """Hands out the line numbers of rows, stepping over malformed records.

    Records are numbered first (the header is record 1), stepping over the
    malformed ones in ``skipped``; a record's line is its number plus the line
    breaks inside quoted values of the records before it (``breaks``: record
    number → breaks, for records that have some).
    """

    def __init__(self, first: int, skipped: list[tuple[int | None, str]], breaks: dict[int, int] | None = None):
        self.next, self.skipped = first, skipped
        self.breaks = {} if breaks is None else breaks

    def take(self, count: int, breaks: np.ndarray | None = None) -> pa.Array:
        """Lines of the next ``count`` rows; ``breaks`` are the line breaks inside each row's values."""
        skipped = np.array([n for n, _ in self.skipped if n is not None and n >= self.next], np.int64)
        candidates = np.arange(self.next, self.next + count + len(skipped), dtype=np.int64)
        records = candidates[~np.isin(candidates, skipped)][:count] if len(skipped) else candidates
        self.next = int(records[-1]) + 1 if count else self.next
        if breaks is not None and breaks.any():
            self.breaks.update(zip(records[breaks > 0].tolist(), breaks[breaks > 0].tolist(), strict=True))
        return pa.array(self.lines(records), pa.int64())

    def lines(self, records: np.ndarray) -> np.ndarray:
        """The line where each record starts."""
        if not self.breaks:
            return records
        starts = np.array(sorted(self.breaks), np.int64)
        before = np.concatenate([[0], np.cumsum([self.breaks[r] for r in starts.tolist()])])
        return records + before[np.searchsorted(starts, records, side="left")]

    def malformed_lines(self) -> list[tuple[int | None, str]]:
        """The skipped rows with their line instead of their record number."""
        numbers = np.array([n for n, _ in self.skipped if n is not None], np.int64)
        lines = iter(self.lines(numbers).tolist())
        return [(None if n is None else next(lines), text) for n, text in self.skipped]


def line_breaks(table: pa.Table) -> np.ndarray:
    """The line breaks inside each row's text values (a CSV value can hold them only when quoted)."""
    total = np.zeros(table.num_rows, np.int64)
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            total += pc.fill_null(pc.count_substring(column, "\n"), 0).to_numpy()
    return total


def _has_quotes(path: Path) -> bool:
    """Whether a CSV file (gzipped or not) holds a quote character anywhere."""
    with pa.input_stream(str(path), compression="detect") as raw:
        return any(b'"' in block for block in iter(lambda: raw.read(CSV_BLOCK), b""))


def _header(path: Path, fmt: str, strip: bool = True) -> list[str]:
    try:
        if fmt == "parquet":
            return pq.ParquetFile(path).schema_arrow.names
        with pa.input_stream(str(path), compression="detect") as raw:
            first = io.TextIOWrapper(raw, encoding="utf-8-sig").readline()
        names = next(csv.reader([first]), [])
        if not names:
            raise pa.ArrowInvalid("empty file: no header row")
        return [n.strip() for n in names] if strip else names
    except (pa.ArrowInvalid, OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot be read as {fmt}: {_first_line(exc)}") from exc


def check_header(path: Path, fmt: str, required: tuple[str, ...], optional: tuple[str, ...] = (),
                 columns: dict[str, str] | None = None) -> list[str]:
    """The file's column names, in order.

    An error names the file and the column when the file is unreadable, lacks a
    required column or a column ``columns`` maps (with the popflow column it was
    to be read as), names a column it reads twice, or (Parquet) holds a nested
    value (struct, list, map) in a column popflow reads.
    """
    names = _header(path, fmt)
    columns = columns or {}
    for popflow_name, file_name in columns.items():
        if file_name not in names:
            raise InputError(path, f"mapped to {popflow_name} by --columns, but the file has no such column "
                                   f"(found: {', '.join(names)})", file_name)
    sources = file_names(required + optional, columns)
    for name in required:
        if name not in sources or sources[name] not in names:
            raise InputError(path, f"required column is missing (found: {', '.join(names)})", name)
    used = [f for f in sources.values() if f in names]
    for name in used:
        if names.count(name) > 1:
            raise InputError(path, f"the header names this column more than once ({names.count(name)} times); "
                                   "keep one", name)
    if fmt == "parquet":
        _check_flat(path, used)
    return names


def _check_flat(path: Path, used: list[str]) -> None:
    schema = pq.ParquetFile(path).schema_arrow
    for name in used:
        kind = schema.field(name).type
        if pa.types.is_nested(kind):
            raise InputError(path, f"holds nested values ({kind}); popflow reads plain text, numbers and times",
                             name)


def _csv_batches(path: Path, wanted: list[str], malformed: MalformedRows, every: bool = False) -> Iterator[pa.Table]:
    """Batches of the ``wanted`` columns (named trimmed) as text, or of ``every`` column, named as in the
    header (a padded name is trimmed by the caller)."""
    header = _header(path, "csv", strip=False)
    read = header if every else [name for name in header if name.strip() in wanted]

    def on_invalid(row):
        malformed.rows.append((row.number, ""))  # the text may hold a raw identifier: only its line is kept
        if row.number is not None and "\n" in row.text:
            malformed.breaks[row.number] = row.text.count("\n")
        return "skip"

    options = dict(
        read_options=pacsv.ReadOptions(block_size=CSV_BLOCK, use_threads=False),
        convert_options=pacsv.ConvertOptions(
            include_columns=[] if every else read,
            column_types={c: pa.string() for c in read},
            strings_can_be_null=True, quoted_strings_can_be_null=False, null_values=NULL_VALUES,
        ),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, ignore_empty_lines=False),
    )
    try:
        with pacsv.open_csv(path, **options) as reader:
            yield from _rebatch(reader)
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        raise InputError(path, f"cannot be read as CSV: {_first_line(exc)}") from exc


def _parquet_batches(path: Path, wanted: list[str]) -> Iterator[pa.Table]:
    """Batches of the ``wanted`` columns; text as dictionaries (distinct values and indices), since values
    repeat (people, cells, event types) and each distinct one is then trimmed and pseudonymised once."""
    try:
        schema = pq.read_schema(path)
        text = [n for n in wanted if pa.types.is_string(schema.field(n).type)
                or pa.types.is_large_string(schema.field(n).type)]
        yield from _rebatch(pq.ParquetFile(path, read_dictionary=text).iter_batches(batch_size=BATCH_ROWS,
                                                                                    columns=wanted))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(path, f"cannot be read as Parquet: {_first_line(exc)}") from exc


def _rebatch(reader) -> Iterator[pa.Table]:
    """Gather a reader's blocks (CSV blocks, Parquet row groups) into batches of about BATCH_ROWS rows."""
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
