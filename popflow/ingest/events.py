"""Network events: one row per event of a pseudonymised person at a cell.

Each accepted event gets its UTC instant, its local wall-clock time as epoch
seconds (``t``), its local ``date`` and the finest area of the cell that was
valid at that instant.
"""

from __future__ import annotations

import pyarrow as pa

from popflow import columns as c
from popflow.ingest import checks as q
from popflow.ingest.parsing import instant_sql, text_sql
from popflow.ingest.source import IngestContext, SourceSpec
from popflow.sql import literals

EVENT_TYPES = ("call", "sms", "data", "other")
MCC_PATTERN = "[0-9]{3}"  # a mobile country code: three digits
MCCS = tuple(f"{code:03d}" for code in range(1000))  # every text MCC_PATTERN matches
_TYPES = literals(EVENT_TYPES)
RECORD = q.Record(
    raw={"timestamp": "ts_raw", "cell_id": "cell_raw", "event_type": "type_raw", "mcc": "mcc_raw"},
    closed={"cell_id": "cell_known", "event_type": f"event_type IN ({_TYPES})",
            "mcc": f"regexp_full_match(mcc, '{MCC_PATTERN}')"},
)


def parse(types: dict[str, pa.DataType], ctx: IngestContext) -> str:
    tz = ctx.timezone.replace("'", "")
    checks = [
        *q.missing("person", "ts_text", "cell_id"),
        *q.timed("ts", "timestamp"),
        q.Check(q.UNKNOWN_CELL, "cell_id", "NOT cell_known"),
        q.Check(q.CELL_OUTSIDE_AREAS, "cell_id", "area_id IS NULL"),
        q.Check(q.INVALID_VALUE, "event_type", f"event_type NOT IN ({_TYPES})"),
        q.Check(q.INVALID_VALUE, "mcc", f"NOT regexp_full_match(mcc, '{MCC_PATTERN}')"),
    ]
    parsed = f"""
        SELECT line, * LIKE 'person%', "timestamp" AS ts_raw, cell_id AS cell_raw, event_type AS type_raw,
               mcc AS mcc_raw, "timestamp" AS ts_text,
               {instant_sql('"timestamp"', types["timestamp"])} AS ts_any, {ctx.plausible_sql('ts_any')} AS ts,
               {text_sql('cell_id')} AS cell_id,
               lower({text_sql('event_type')}) AS event_type, {text_sql('mcc')} AS mcc
        FROM raw"""
    located = f"""
        SELECT p.*, c.area_id, c.cell_id IS NOT NULL AS cell_known, timezone('{tz}', p.ts) AS local
        FROM parsed p LEFT JOIN cells c ON c.cell_id = p.cell_id
            AND (c.valid_from IS NULL OR p.ts >= c.valid_from)
            AND (c.valid_to IS NULL OR p.ts < c.valid_to)"""
    keyed = ctx.keys.keyed_sql("located")
    return RECORD.query([("parsed", parsed), ("located", located), ("keyed", keyed)], checks,
                        "person, ts, floor(epoch(local))::BIGINT AS t, cell_id, area_id, "
                        "coalesce(event_type, 'other') AS event_type, mcc, local::DATE AS date")


SOURCE = SourceSpec(
    name="events",
    required=("subscriber_id", "timestamp", "cell_id"),
    optional=("event_type", "mcc"),
    parse=parse,
    schema={
        c.PERSON: "BIGINT", c.LOCAL_EPOCH: "BIGINT",
        c.CELL_ID: "VARCHAR", c.AREA_ID: "VARCHAR", c.EVENT_TYPE: "VARCHAR", c.MCC: "VARCHAR",
        c.DATE: "DATE",
    },
    reads=("cells",),
    person_column="subscriber_id",
    partition_by="date",
    time_column="ts",
    record=RECORD,
    vocabularies={"event_type": EVENT_TYPES, "mcc": MCCS},
)
