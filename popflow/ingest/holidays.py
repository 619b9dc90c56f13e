"""Public holidays: ``date`` (local) and ``name``, one holiday per date.

Holidays are public facts with no person in them. Alerts treat them as
their own season: a day on a holiday is compared with the same holiday a
year earlier (same ``name``), not with ordinary days. Give every day of a
multi-day holiday its own row under one name (e.g. seven rows named
``National Day``), for every year the data covers. A date outside
``time_window`` is quarantined as ``implausible_time``, as in every source.
"""

from __future__ import annotations

import pyarrow as pa

from popflow import columns as c
from popflow.ingest import checks as q
from popflow.ingest.parsing import date_sql, text_sql
from popflow.ingest.source import IngestContext, SourceSpec

RECORD = q.Record(raw={"date": "date_text", "name": "name"}, pseudonyms=())


def parse(types: dict[str, pa.DataType], ctx: IngestContext) -> str:
    checks = [*q.missing("date_text", "name"), *q.timed("date", "date")]
    parsed = f"""
        SELECT line, "date" AS date_text, {date_sql('"date"', types['date'])} AS date_any,
               {ctx.plausible_date_sql('date_any')} AS date, {text_sql('name')} AS name
        FROM raw"""
    return RECORD.query([("parsed", parsed)], checks, "date, name")


SOURCE = SourceSpec(
    name="holidays",
    required=("date", "name"),
    optional=(),
    parse=parse,
    schema={c.DATE: "DATE", c.NAME: "VARCHAR"},
    key=("date",),
    record=RECORD,
)
