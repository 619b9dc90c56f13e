"""Event files: one per local day, `events-YYYY-MM-DD.csv.gz` or `.parquet`.

Columns `subscriber_id, timestamp, cell_id, event_type, mcc`. In CSV the timestamp
is ISO 8601 local time with its UTC offset (`2026-01-25T08:13:05+08:00`); in
Parquet it is int64 epoch seconds. Rows are in time order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from popflow import columns as col
from popflow.ingest.events import SOURCE as EVENTS
from popflow.synth.clock import SECONDS_PER_HOUR, Day, offset_text
from popflow.synth.csv_files import GzipCsvFile
from popflow.synth.phone_activity import EVENT_TYPES, EventBatch

SUBSCRIBER_ID = EVENTS.person_column
EVENT_COLUMNS = [SUBSCRIBER_ID, col.TIMESTAMP, col.CELL_ID, col.EVENT_TYPE, col.MCC]
FORMATS = {"csv": ".csv.gz", "parquet": ".parquet"}
PARQUET_SCHEMA = pa.schema([
    (SUBSCRIBER_ID, pa.string()), (col.TIMESTAMP, pa.int64()), (col.CELL_ID, pa.string()),
    (col.EVENT_TYPE, pa.string()), (col.MCC, pa.string()),
])
_EVENT_TYPE_NAMES = pa.array(EVENT_TYPES)
_MINUTES_SECONDS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]


@dataclass(frozen=True)
class EventLabels:
    """Text labels that turn the integer codes of an EventBatch into file values."""

    person_ids: pa.Array
    person_mcc: pa.Array
    cell_ids: pa.Array


class EventFile(Protocol):
    def write(self, batch: EventBatch) -> None: ...

    def close(self) -> None: ...


def event_file_name(day: Day, events_format: str) -> str:
    return f"events-{day.date.isoformat()}{FORMATS[events_format]}"


def local_timestamp_texts(day: Day) -> pa.Array:
    """ISO 8601 local time with offset of every second of the day, slot by slot."""
    texts: list[str] = []
    for hour, offset in zip(day.local_hours.tolist(), day.utc_offsets.tolist(), strict=True):
        head, tail = f"{day.date.isoformat()}T{hour:02d}:", offset_text(offset)
        texts.extend(head + minute_second + tail for minute_second in _MINUTES_SECONDS)
    return pa.array(texts)


def labelled_columns(batch: EventBatch, labels: EventLabels) -> dict[str, pa.Array]:
    """The columns other than the timestamp, as text."""
    person = pa.array(batch.person)
    return {
        SUBSCRIBER_ID: labels.person_ids.take(person),
        col.CELL_ID: labels.cell_ids.take(pa.array(batch.cell)),
        col.EVENT_TYPE: _EVENT_TYPE_NAMES.take(pa.array(batch.event_type)),
        col.MCC: labels.person_mcc.take(person),
    }


def in_column_order(columns: dict[str, pa.Array]) -> pa.Table:
    return pa.table({name: columns[name] for name in EVENT_COLUMNS})


class CsvEventFile:
    """Gzip CSV with local ISO 8601 timestamps."""

    def __init__(self, path: Path, day: Day, labels: EventLabels):
        self._labels = labels
        self._texts = local_timestamp_texts(day)
        self._file = GzipCsvFile(path, EVENT_COLUMNS)

    def write(self, batch: EventBatch) -> None:
        columns = labelled_columns(batch, self._labels)
        position = batch.slot * SECONDS_PER_HOUR + batch.second
        columns[col.TIMESTAMP] = self._texts.take(pa.array(position))
        self._file.write(in_column_order(columns))

    def close(self) -> None:
        self._file.close()


class ParquetEventFile:
    """Parquet with epoch-second timestamps; one row group per batch."""

    def __init__(self, path: Path, day: Day, labels: EventLabels):
        self._labels = labels
        self._hour_starts = day.hour_starts
        self._writer = pq.ParquetWriter(path, PARQUET_SCHEMA, compression="zstd")

    def write(self, batch: EventBatch) -> None:
        columns = labelled_columns(batch, self._labels)
        epoch = self._hour_starts[batch.slot] + batch.second.astype(np.int64)
        columns[col.TIMESTAMP] = pa.array(epoch)
        self._writer.write_table(in_column_order(columns).cast(PARQUET_SCHEMA))

    def close(self) -> None:
        self._writer.close()


def open_event_file(folder: Path, day: Day, labels: EventLabels, events_format: str) -> EventFile:
    """Start the event file of `day` in `folder`."""
    opener = {"csv": CsvEventFile, "parquet": ParquetEventFile}[events_format]
    return opener(folder / event_file_name(day, events_format), day, labels)
