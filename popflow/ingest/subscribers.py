"""Subscribers: SIM-registration attributes of pseudonymised people.

``birth_year`` is kept only as a five-year ``age_band`` (``<15``, ``15-19`` …
``75-79``, ``80+``), the age being the one reached in the year of ingest.
"""

from __future__ import annotations

import datetime

import pyarrow as pa

from popflow import columns as c
from popflow.ingest import checks as q
from popflow.ingest.parsing import date_sql, number_sql, text_sql
from popflow.ingest.source import IngestContext, SourceSpec

GENDERS = {"f": "F", "m": "M", "other": "other", "unknown": "unknown"}
AGE_BANDS = ("<15", *(f"{a}-{a + 4}" for a in range(15, 80, 5)), "80+")  # every value of age_band_sql
RECORD = q.Record(
    raw={"gender": "gender_text", "birth_year": "birth_text", "origin_region": "origin_region",
         "registered_on": "reg_text"},
    closed={"gender": "gender IS NOT NULL"},
)


def age_band_sql(age: str) -> str:
    """SQL mapping an age in years to its five-year band."""
    return (
        f"CASE WHEN {age} < 15 THEN '<15' WHEN {age} >= 80 THEN '80+' "
        f"ELSE (({age} // 5) * 5)::VARCHAR || '-' || (({age} // 5) * 5 + 4)::VARCHAR END"
    )


def parse(types: dict[str, pa.DataType], ctx: IngestContext) -> str:
    year = datetime.date.today().year
    gender_map = "MAP {" + ", ".join(f"'{k}': '{v}'" for k, v in GENDERS.items()) + "}"
    checks = [
        *q.missing("person", "gender_text", "birth_text", "origin_region"),
        q.Check(q.INVALID_VALUE, "gender", "gender IS NULL"),
        q.Check(q.INVALID_VALUE, "birth_year", f"birth_year IS NULL OR birth_year NOT BETWEEN 1900 AND {year}"),
        q.Check(q.INVALID_VALUE, "registered_on", "reg_text IS NOT NULL AND registered_on IS NULL"),
    ]
    parsed = f"""
        SELECT line, person, {text_sql('gender')} AS gender_text,
               {gender_map}[lower({text_sql('gender')})] AS gender,
               {text_sql('birth_year')} AS birth_text,
               {number_sql('birth_year', 'INTEGER')} AS birth_year,
               {text_sql('origin_region')} AS origin_region,
               {text_sql('registered_on')} AS reg_text,
               {date_sql('registered_on', types['registered_on'])} AS registered_on
        FROM raw"""
    return RECORD.query([("parsed", parsed)], checks,
                        f"person, gender, {age_band_sql(f'({year} - birth_year)')} AS age_band, origin_region, "
                        "registered_on")


SOURCE = SourceSpec(
    name="subscribers",
    required=("subscriber_id", "gender", "birth_year", "origin_region"),
    optional=("registered_on",),
    parse=parse,
    schema={
        c.PERSON: "BIGINT", c.GENDER: "VARCHAR", c.AGE_BAND: "VARCHAR",
        c.ORIGIN_REGION: "VARCHAR", c.REGISTERED_ON: "DATE",
    },
    key=("person",),
    person_column="subscriber_id",
    record=RECORD,
)
