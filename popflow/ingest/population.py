"""Census population per area, used to scale detected residents to everyone.

A row with ``gender`` and ``age_band`` is a class of the area's population
(long form: one row per area × class; gender ``F``, ``M``, ``other`` or
``unknown``, age bands as in ``subscribers``); a row without them is the
area's total. An area's population is its total row, else the sum of its
class rows.
"""

from __future__ import annotations

import pyarrow as pa

from popflow import columns as c
from popflow.ingest import checks as q
from popflow.ingest.parsing import number_sql, text_sql
from popflow.ingest.source import IngestContext, SourceSpec
from popflow.ingest.subscribers import AGE_BANDS, GENDERS
from popflow.sql import literals

VOCABULARY = {"gender": tuple(GENDERS.values()), "age_band": AGE_BANDS}


def _known(column: str) -> str:
    return f"{column} IN ({literals(VOCABULARY[column])})"


RECORD = q.Record(
    raw={"area_id": "area_id", "population": "population_text", "adults": "adults_text",
         "gender": "gender", "age_band": "age_band"},
    closed={"area_id": "area_id IN (SELECT area_id FROM areas)",
            **{column: _known(column) for column in VOCABULARY}},
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
        *(q.Check(q.INVALID_VALUE, column, f"{column} IS NOT NULL AND NOT {_known(column)}") for column in VOCABULARY),
        q.Check(q.MISSING_FIELD, "age_band", "gender IS NOT NULL AND age_band IS NULL"),
        q.Check(q.MISSING_FIELD, "gender", "age_band IS NOT NULL AND gender IS NULL"),
    ]
    parsed = f"""
        SELECT line, {text_sql('area_id')} AS area_id,
               {text_sql('population')} AS population_text,
               {number_sql('population', 'BIGINT')} AS population,
               {text_sql('adults')} AS adults_text, {number_sql('adults', 'BIGINT')} AS adults,
               {text_sql('gender')} AS gender, {text_sql('age_band')} AS age_band
        FROM raw"""
    return RECORD.query([("parsed", parsed)], checks, "area_id, population, adults, gender, age_band")


SOURCE = SourceSpec(
    name="population",
    required=("area_id", "population"),
    optional=("adults", "gender", "age_band"),
    parse=parse,
    schema={c.AREA_ID: "VARCHAR", c.POPULATION: "BIGINT", c.ADULTS: "BIGINT", c.GENDER: "VARCHAR",
            c.AGE_BAND: "VARCHAR"},
    reads=("areas",),
    key=("area_id", "gender", "age_band"),
    record=RECORD,
)
