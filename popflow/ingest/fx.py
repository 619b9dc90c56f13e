"""Exchange rates: ``rate_to_base`` converts one unit of ``currency`` on ``date`` to the base currency.

A rate is a finite positive number. The base currency is the one at rate 1.
Two currencies at rate 1 on one date make the base ambiguous: every such row
of the ingest is quarantined (``ambiguous_base_currency``), and so is a new
one on a date whose base is already in the lake (committed rows never
change). Quarantining the rows, rather than refusing the file, keeps the
rest of the file and still counts and locates each refused row, so nothing
is lost or silently dropped; the date is then without a base until a
corrected row is ingested.
"""

from __future__ import annotations

import pyarrow as pa

from popflow import columns as c
from popflow.ingest import checks as q
from popflow.ingest.parsing import date_sql, number_sql, text_sql
from popflow.ingest.source import IngestContext, SourceSpec

RECORD = q.Record(
    raw={"date": "date_text", "currency": "currency", "rate_to_base": "rate_text"},
    closed={"currency": "currency IN (SELECT currency FROM ref_currencies)"},
    pseudonyms=(),
)


def parse(types: dict[str, pa.DataType], ctx: IngestContext) -> str:
    checks = [
        *q.missing("date_text", "currency", "rate_text"),
        *q.timed("date", "date"),
        q.Check(q.UNKNOWN_CURRENCY, "currency", "currency NOT IN (SELECT currency FROM ref_currencies)"),
        q.Check(q.INVALID_VALUE, "rate_to_base",
                "rate_to_base IS NULL OR NOT isfinite(rate_to_base) OR rate_to_base <= 0"),
    ]
    parsed = f"""
        SELECT line, "date" AS date_text, {date_sql('"date"', types['date'])} AS date_any,
               {ctx.plausible_date_sql('date_any')} AS date,
               upper({text_sql('currency')}) AS currency, rate_to_base AS rate_text,
               {number_sql('rate_to_base')} AS rate_to_base
        FROM raw"""
    return RECORD.query([("parsed", parsed)], checks, "date, currency, rate_to_base")


def ambiguous_bases(accepted: str) -> str:
    """Rows at rate 1 on a date where another currency is at rate 1 (in this ingest or the lake)."""
    return f"""
    WITH bases AS (SELECT seq, date, currency FROM {accepted} WHERE rate_to_base = 1),
         known AS (SELECT date, currency FROM bases UNION SELECT date, currency FROM fx WHERE rate_to_base = 1)
    SELECT seq, '{q.AMBIGUOUS_BASE_CURRENCY}' AS reason, 'rate_to_base' AS "column" FROM bases b
    WHERE EXISTS (SELECT 1 FROM known k WHERE k.date = b.date AND k.currency <> b.currency)
    """


SOURCE = SourceSpec(
    name="fx",
    required=("date", "currency", "rate_to_base"),
    optional=(),
    parse=parse,
    schema={c.DATE: "DATE", "currency": "VARCHAR", "rate_to_base": "DOUBLE"},
    key=("date", "currency"),
    conflicts=ambiguous_bases,
    record=RECORD,
    references=("ref_currencies",),
)
