"""What an indicator is: a named, documented function from input relations and a
parameter object to person-level contribution tables.

An indicator never touches an engine, a privacy mechanism or a file format.
Its SQL (DuckDB dialect, transpiled for other engines) reads only these relations,
which the runner provides:

- ``events(person, t, area_id, date, mcc)`` — ``t`` local epoch seconds;
- ``subscribers(person, gender, age_band, origin_region)``;
- ``area_map(area_id, target_id)`` — finest area → area at the requested level;
- ``calendar(day, date, period, weekday)`` — local day numbers since 1970-01-01,
  ``weekday`` 1 = Monday … 7 = Sunday;
- ``periods(period, next_period)``.

A contribution table has one row per person per released cell: ``person``, the
cell's key columns and any per-person measures. The disclosure layer counts the
people in each cell and sums the measures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# Column kinds the output layer formats: local epoch seconds become zoned timestamps.
TIME_COLUMNS = frozenset({"time"})


@dataclass(frozen=True)
class Contribution:
    """Person-level rows of one released table."""

    table: str
    sql: str
    keys: tuple[str, ...]
    people: str = "people"
    sums: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()  # output column order; default keys + people + sums

    def output_columns(self) -> tuple[str, ...]:
        return self.columns or (*self.keys, self.people, *self.sums)


@dataclass(frozen=True)
class Indicator:
    """A registered indicator."""

    name: str
    summary: str
    params: type
    define: Callable[..., list[Contribution]]
    description: str = ""
    uses: tuple[str, ...] = ("events",)
    finish: Callable | None = field(default=None)
