"""Census population per area, used to scale detected residents to everyone."""

from __future__ import annotations

import pyarrow as pa

from popflow.ingest import checks as q
from popflow.ingest.parsing import number_sql, text_sql
from popflow.ingest.source import IngestContext, SourceSpec

RECORD = q.Record(
    raw={"area_id": "area_id", "population": "population_text", "adults": "adults_text"},
    closed={"area_id": "area_id IN (SELECT area_id FROM areas)"},
    pseudonyms=(),
)


def parse(types: dict[str, pa.DataType], ctx: IngestContext) -> str:
    checks = [
        *q.missing("area_id", "population_text"),
        q.Check(q.UNKNOWN_AREA, "area_id", "area_id NOT IN (SELECT area_id FROM areas)"),
        q.Check(q.INVALID_VALUE, "population", "population IS NULL"),
        q.Check(q.NEGATIVE_AMOUNT, "population", "population < 0"),
        q.Check(q.INVALID_VALUE, "adults", "adults_text IS NOT NULL AND adults IS NULL"),
        q.Check(q.NEGATIVE_AMOUNT, "adults", "adults < 0"),
        q.Check(q.INVALID_VALUE, "adults", "adults > population"),
    ]
    return f"""
    WITH parsed AS (
        SELECT line, {text_sql('area_id')} AS area_id,
               {text_sql('population')} AS population_text,
               {number_sql('population', 'BIGINT')} AS population,
               {text_sql('adults')} AS adults_text, {number_sql('adults', 'BIGINT')} AS adults
        FROM raw
    ), classified AS (
        {q.classified_sql(checks, 'parsed')}
    )
    SELECT area_id, population, adults, line, reason, "column", {RECORD.sql()} AS record FROM classified
    """


SOURCE = SourceSpec(
    name="population",
    required=("area_id", "population"),
    optional=("adults",),
    parse=parse,
    key=("area_id",),
    record=RECORD,
)
