"""What every input source declares: its columns, key, checks and how a batch is parsed."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from popflow.ingest.checks import Record
from popflow.pseudonymise import KeyRing
from popflow.settings import plausible_window


@dataclass
class IngestContext:
    """What a source may use while reading and parsing a batch.

    ``columns`` maps popflow's column names to the files' own (``column_map``).
    ``time_window`` is the workspace setting (None: 2000-01-01 to one day after
    ``now``); ``now`` is fixed when the context is made, so one ingest applies
    one window to all its files.
    """

    timezone: str
    keys: KeyRing
    area_lookup: Callable[[pa.Array, pa.Array], pa.Array] | None = None
    time_window: tuple[str, str] | None = None
    columns: dict[str, str] = field(default_factory=dict)
    now: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))

    def plausible_sql(self, instant: str) -> str:
        """SQL keeping an instant (TIMESTAMPTZ) inside the time window; NULL outside it or when NULL."""
        first, end = plausible_window(self.time_window, self.timezone, self.now)
        return (f"CASE WHEN {instant} >= '{first.isoformat()}'::TIMESTAMPTZ "
                f"AND {instant} < '{end.isoformat()}'::TIMESTAMPTZ THEN {instant} END")

    def plausible_date_sql(self, date: str) -> str:
        """SQL keeping a local date inside the time window; NULL outside it or when NULL."""
        first, end = plausible_window(self.time_window, self.timezone, self.now)
        last = (end - datetime.timedelta(microseconds=1)).astimezone(first.tzinfo).date()
        return f"CASE WHEN {date} BETWEEN DATE '{first.date()}' AND DATE '{last}' THEN {date} END"


@dataclass(frozen=True)
class SourceSpec:
    """An input source.

    ``name`` is the dataset's name in the lake (its relation is ``lake_<name>``
    in every engine) and the name of the ``popflow.sources`` entry point that
    declares the source. ``schema`` maps the dataset's columns, in order, to
    their DuckDB types (Parquet on disk). ``parse(types, ctx)`` returns a SQL
    SELECT over the registered batch ``raw`` (and lake views) giving the
    dataset's columns, ``line``, ``record`` (what the quarantine keeps of a bad
    row, by ``record.sql()``), ``reason`` and ``column`` (NULL for an accepted
    row). ``prepare`` may add columns to a batch before the SQL runs (for
    example the area of a cell). ``key`` columns must be unique across all
    batches; a repeat is quarantined. ``linked_ids`` are identifiers of a
    person's record (a ticket, an order), pseudonymised before any SQL runs,
    like ``person_column``. ``references`` names the reference tables the SQL
    reads (``pipeline.REFERENCE_TABLES``); ``reads`` names the other lake
    datasets the SQL or ``prepare`` reads, which are therefore ingested first.
    ``time_column`` is the instant, a column of the parse query, whose first
    and last accepted values the quality report gives as the time span.
    ``conflicts(accepted)`` is SQL over the table of this ingest's accepted rows
    (with a ``seq`` column in input order) returning ``seq, reason, "column"``
    of further rows to quarantine, for rules that relate rows to each other.
    ``vocabularies`` maps a dataset column to the small closed set its
    accepted values lie in (the checks refuse any other value; NULL may pass):
    the column is written to Parquet as a dictionary of that set, which is
    faster than writing text and reads back as the same text.
    """

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    parse: Callable[[dict[str, pa.DataType], IngestContext], str]
    schema: dict[str, str]
    key: tuple[str, ...] = ()
    person_column: str | None = None
    prepare: Callable[[pa.Table, IngestContext], pa.Table] | None = None
    read: Callable[[Path], pa.Table] | None = None
    partition_by: str | None = None
    vocabularies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    conflicts: Callable[[str], str] | None = None
    record: Record | None = None
    linked_ids: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    time_column: str | None = None
