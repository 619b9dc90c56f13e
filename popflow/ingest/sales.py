"""Sales orders of a retailer's customers (pseudonymised), dated by local order time."""

from __future__ import annotations

import pyarrow as pa

from popflow import columns as c
from popflow.ingest import checks as q
from popflow.ingest.parsing import instant_sql, number_sql, text_sql
from popflow.ingest.source import IngestContext, SourceSpec
from popflow.sql import literals

CHANNELS = ("online", "offline")
_CHANNELS = literals(CHANNELS)
RECORD = q.Record(
    raw={"ordered_at": "ordered_text", "region_id": "region_id", "category": "category", "amount": "amount_text",
         "currency": "currency", "channel": "channel"},
    closed={"region_id": "region_id IN (SELECT area_id FROM areas)",
            "currency": "currency IN (SELECT currency FROM ref_currencies)", "channel": f"channel IN ({_CHANNELS})"},
    pseudonyms=("order_id", "person"),
)


def parse(types: dict[str, pa.DataType], ctx: IngestContext) -> str:
    tz = ctx.timezone.replace("'", "")
    checks = [
        *q.missing("order_id", "person", "ordered_text", "region_id", "category", "amount_text", "currency"),
        *q.timed("ordered_at", "ordered_at"),
        q.Check(q.UNKNOWN_AREA, "region_id", "region_id NOT IN (SELECT area_id FROM areas)"),
        *q.amount("amount", "amount"),
        q.Check(q.UNKNOWN_CURRENCY, "currency", "currency NOT IN (SELECT currency FROM ref_currencies)"),
        q.Check(q.INVALID_VALUE, "channel", f"channel NOT IN ({_CHANNELS})"),
    ]
    parsed = f"""
        SELECT line, * LIKE 'person%', order_id,
               ordered_at AS ordered_text, {instant_sql('ordered_at', types['ordered_at'])} AS ordered_at_any,
               {ctx.plausible_sql('ordered_at_any')} AS ordered_at,
               {text_sql('region_id')} AS region_id, {text_sql('category')} AS category,
               amount AS amount_text, {number_sql('amount')} AS amount, upper({text_sql('currency')}) AS currency,
               lower({text_sql('channel')}) AS channel
        FROM raw"""
    located = f"""
        SELECT *, timezone('{tz}', ordered_at) AS local FROM parsed"""
    keyed = ctx.keys.keyed_sql("located")
    return RECORD.query([("parsed", parsed), ("located", located), ("keyed", keyed)], checks,
                        "order_id, person, ordered_at, floor(epoch(local))::BIGINT AS t, region_id, category, "
                        "amount, currency, channel, local::DATE AS date")


SOURCE = SourceSpec(
    name="sales",
    required=("order_id", "customer_id", "ordered_at", "region_id", "category", "amount", "currency"),
    optional=("channel",),
    parse=parse,
    schema={
        "order_id": "BIGINT",  # keyed pseudonym of the order's id
        c.PERSON: "BIGINT", "ordered_at": "TIMESTAMPTZ", c.LOCAL_EPOCH: "BIGINT",
        "region_id": "VARCHAR", "category": "VARCHAR", "amount": "DOUBLE", "currency": "VARCHAR",
        "channel": "VARCHAR", c.DATE: "DATE",
    },
    reads=("areas",),
    key=("order_id",),
    person_column="customer_id",
    partition_by="date",
    time_column="ordered_at",
    record=RECORD,
    linked_ids=("order_id",),
    references=("ref_currencies",),
)
