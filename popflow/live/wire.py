"""The payload of one NATS message: several events, as CSV or JSON lines.

CSV (the fast path): a header row naming the columns of SPEC §2 ``events``
(``subscriber_id, timestamp, cell_id`` and optionally ``event_type, mcc``),
then one event per line, UTF-8, optionally gzip-compressed. JSON lines: one
object per line with the same keys. Line numbers follow the file convention
(CSV header is line 1), so a quarantined row points into its message.

Decoding never keeps raw text: a row that cannot be parsed is remembered by
its line number only, and a message that cannot be read at all is reported
with a fixed reason (never with its content).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.csv as pacsv

from popflow.ingest.events import SOURCE as EVENTS
from popflow.ingest.readers import NULL_VALUES, LineNumbers, line_breaks

COLUMNS = EVENTS.required + EVENTS.optional
GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class Decoded:
    """Rows of one message (or file) as text columns plus ``line``; or why it was unreadable."""

    origin: str
    table: pa.Table | None = None
    malformed: list[int | None] = field(default_factory=list)  # line numbers of rows that could not be split
    problem: str | None = None  # the whole input could not be read
    column: str | None = None  # the column at fault, when one is missing


def decode(payload: bytes, origin: str) -> Decoded:
    """Decode a message payload into event rows."""
    try:
        if payload[:2] == GZIP_MAGIC:
            payload = gzip.decompress(payload)
        text_start = payload.lstrip()[:1]
    except (OSError, EOFError):
        return Decoded(origin, problem="corrupt gzip payload")
    if not text_start:
        return Decoded(origin, table=empty_table())
    if text_start == b"{":
        return _decode_json_lines(payload, origin)
    return _decode_csv(payload, origin)


def empty_table() -> pa.Table:
    schema = pa.schema([(c, pa.string()) for c in COLUMNS] + [("line", pa.int64())])
    return schema.empty_table()


def _decode_csv(payload: bytes, origin: str) -> Decoded:
    try:
        first = payload.split(b"\n", 1)[0].decode("utf-8-sig")
    except UnicodeDecodeError:
        return Decoded(origin, problem="not UTF-8 text")
    header = next(csv.reader([first]), [])
    names = [n.strip() for n in header]
    missing = next((c for c in EVENTS.required if c not in names), None)
    if missing:
        return Decoded(origin, problem="required column is missing", column=missing)
    twice = next((c for c in COLUMNS if names.count(c) > 1), None)
    if twice:
        return Decoded(origin, problem="column named more than once", column=twice)
    malformed: list[tuple[int | None, str]] = []
    numbering = LineNumbers(first=2, skipped=malformed)
    try:  # every column: a quoted value of any of them may hold line breaks
        table = pacsv.read_csv(pa.BufferReader(payload), **_csv_options(header, malformed, numbering.breaks))
    except (pa.ArrowInvalid, OSError):
        return Decoded(origin, problem="unreadable CSV")
    table = _complete(table, numbering)
    return Decoded(origin, table=table, malformed=[n for n, _ in numbering.malformed_lines()])


def _csv_options(names: list[str], malformed: list, breaks: dict[int, int]) -> dict:
    def on_invalid(row):
        malformed.append((row.number, ""))  # the line number only: the text may hold a raw identifier
        if row.number is not None and "\n" in row.text:
            breaks[row.number] = row.text.count("\n")
        return "skip"

    return dict(
        read_options=pacsv.ReadOptions(use_threads=False),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in names},
                                             strings_can_be_null=True, quoted_strings_can_be_null=False,
                                             null_values=NULL_VALUES),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, ignore_empty_lines=False),
    )


def _complete(table: pa.Table, numbering: LineNumbers) -> pa.Table:
    """The event columns (absent optional ones null) and the ``line`` column."""
    breaks = line_breaks(table)
    table = table.rename_columns([n.strip() for n in table.column_names])
    table = table.select([c for c in COLUMNS if c in table.column_names])
    for name in COLUMNS:
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows, pa.string()))
    table = table.select(list(COLUMNS))
    return table.append_column("line", numbering.take(table.num_rows, breaks))


def _decode_json_lines(payload: bytes, origin: str) -> Decoded:
    try:
        lines = payload.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        return Decoded(origin, problem="not UTF-8 text")
    rows: dict[str, list] = {c: [] for c in COLUMNS}
    numbers, malformed = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = _json_object(line)
        if record is None:
            malformed.append(number)
            continue
        for name in COLUMNS:
            value = record.get(name)
            rows[name].append(None if value is None else str(value))
        numbers.append(number)
    table = pa.table({c: pa.array(v, pa.string()) for c, v in rows.items()})
    return Decoded(origin, table=table.append_column("line", pa.array(numbers, pa.int64())), malformed=malformed)


def _json_object(line: str) -> dict | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def encode_csv(table: pa.Table) -> bytes:
    """A message payload (CSV with header) from a table holding the event columns."""
    sink = io.BytesIO()
    columns = [c for c in COLUMNS if c in table.column_names]
    pacsv.write_csv(table.select(columns), sink, pacsv.WriteOptions(quoting_style="needed"))
    return sink.getvalue()
