"""Exchange rates: ``rate_to_base`` converts one unit of ``currency`` on ``date`` to the base currency."""

from __future__ import annotations

import pyarrow as pa

from popflow.ingest import checks as q
from popflow.ingest.parsing import date_sql, number_sql, text_sql
from popflow.ingest.source import IngestContext, SourceSpec


def parse(types: dict[str, pa.DataType], ctx: IngestContext) -> str:
    checks = [
        *q.missing("date_text", "currency", "rate_text"),
        *q.timed("date", "date"),
        q.Check(q.UNKNOWN_CURRENCY, "currency", "currency NOT IN (SELECT currency FROM ref_currencies)"),
        q.Check(q.INVALID_VALUE, "rate_to_base", "rate_to_base IS NULL OR rate_to_base <= 0"),
    ]
    return f"""
    WITH parsed AS (
        SELECT line, "date" AS date_text, {date_sql('"date"', types['date'])} AS date_any,
               {ctx.plausible_date_sql('date_any')} AS date,
               upper({text_sql('currency')}) AS currency, rate_to_base AS rate_text,
               {number_sql('rate_to_base')} AS rate_to_base
        FROM raw
    )
    SELECT date, currency, rate_to_base, line,
           to_json({{'date': date_text::VARCHAR, 'currency': currency,
                    'rate_to_base': rate_text::VARCHAR}})::VARCHAR AS record,
           {q.classify_sql(checks)}
    FROM parsed
    """


SOURCE = SourceSpec(
    name="fx",
    required=("date", "currency", "rate_to_base"),
    optional=(),
    parse=parse,
    key=("date", "currency"),
)
