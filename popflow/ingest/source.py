"""What every input source declares: its columns, key, checks and how a batch is parsed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from popflow.pseudonymise import KeyRing


@dataclass
class IngestContext:
    """What a source may use while parsing a batch."""

    timezone: str
    keys: KeyRing
    area_lookup: Callable[[pa.Array, pa.Array], pa.Array] | None = None


@dataclass(frozen=True)
class SourceSpec:
    """An input source.

    ``parse(types, ctx)`` returns a SQL SELECT over the registered batch ``raw``
    (and lake views) giving the dataset's columns, ``line``, ``record`` (the
    input row as JSON, identifiers already pseudonymised), ``reason`` and
    ``column`` (NULL for an accepted row). ``prepare`` may add columns to a
    batch before the SQL runs (for example the area of a cell). ``key`` columns
    must be unique across all batches; a repeat is quarantined.
    ``conflicts(accepted)`` is SQL over the table of this ingest's accepted rows
    (with a ``seq`` column in input order) returning ``seq, reason, "column"``
    of further rows to quarantine, for rules that relate rows to each other.
    """

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    parse: Callable[[dict[str, pa.DataType], IngestContext], str]
    key: tuple[str, ...] = ()
    person_column: str | None = None
    prepare: Callable[[pa.Table, IngestContext], pa.Table] | None = None
    read: Callable[[Path], pa.Table] | None = None
    partition_by: str | None = None
    conflicts: Callable[[str], str] | None = None
