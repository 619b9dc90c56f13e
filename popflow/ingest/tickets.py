"""Air and online tickets sold to travellers (pseudonymised), dated by local departure.

Airports are checked against the IATA table and the destination country
against the destination airport's country; currencies against ISO 4217.
"""

from __future__ import annotations

import pyarrow as pa

from popflow import columns as c
from popflow.ingest import checks as q
from popflow.ingest.parsing import instant_sql, number_sql, text_sql
from popflow.ingest.source import IngestContext, SourceSpec
from popflow.sql import literals

CABINS = ("economy", "premium", "business", "first")
_CABINS = literals(CABINS)
RECORD = q.Record(
    raw={"purchased_at": "bought_text", "departs_at": "departs_text", "origin": "origin",
         "destination": "destination", "destination_country": "destination_country", "fare": "fare_text",
         "currency": "currency", "cabin": "cabin", "channel": "channel"},
    closed={"origin": "origin IN (SELECT iata FROM ref_airports)",
            "destination": "destination_airport_country IS NOT NULL",
            "destination_country": "destination_country IN (SELECT country FROM ref_airports)",
            "currency": "currency IN (SELECT currency FROM ref_currencies)", "cabin": f"cabin IN ({_CABINS})"},
    pseudonyms=("ticket_id", "person"),
)


def parse(types: dict[str, pa.DataType], ctx: IngestContext) -> str:
    tz = ctx.timezone.replace("'", "")
    checks = [
        *q.missing("ticket_id", "person", "bought_text", "departs_text", "origin", "destination",
                   "destination_country", "fare_text", "currency"),
        *q.timed("purchased_at", "purchased_at"),
        *q.timed("departs_at", "departs_at"),
        q.Check(q.DEPARTURE_BEFORE_PURCHASE, "departs_at", "departs_at < purchased_at"),
        q.Check(q.UNKNOWN_AIRPORT, "origin", "origin NOT IN (SELECT iata FROM ref_airports)"),
        q.Check(q.UNKNOWN_AIRPORT, "destination", "destination_airport_country IS NULL"),
        q.Check(q.INVALID_VALUE, "destination_country", "destination_country <> destination_airport_country"),
        *q.amount("fare", "fare"),
        q.Check(q.UNKNOWN_CURRENCY, "currency", "currency NOT IN (SELECT currency FROM ref_currencies)"),
        q.Check(q.INVALID_VALUE, "cabin", f"cabin NOT IN ({_CABINS})"),
    ]
    parsed = f"""
        SELECT line, * LIKE 'person%', ticket_id,
               purchased_at AS bought_text, {instant_sql('purchased_at', types['purchased_at'])} AS purchased_at_any,
               {ctx.plausible_sql('purchased_at_any')} AS purchased_at,
               departs_at AS departs_text, {instant_sql('departs_at', types['departs_at'])} AS departs_at_any,
               {ctx.plausible_sql('departs_at_any')} AS departs_at,
               upper({text_sql('origin')}) AS origin, upper({text_sql('destination')}) AS destination,
               upper({text_sql('destination_country')}) AS destination_country,
               fare AS fare_text, {number_sql('fare')} AS fare, upper({text_sql('currency')}) AS currency,
               lower({text_sql('cabin')}) AS cabin, {text_sql('channel')} AS channel
        FROM raw"""
    located = f"""
        SELECT p.*, a.country AS destination_airport_country, timezone('{tz}', p.departs_at) AS local
        FROM parsed p LEFT JOIN ref_airports a ON a.iata = p.destination"""
    keyed = ctx.keys.keyed_sql("located")
    return RECORD.query([("parsed", parsed), ("located", located), ("keyed", keyed)], checks,
                        "ticket_id, person, purchased_at, departs_at, floor(epoch(local))::BIGINT AS t, origin, "
                        "destination, destination_country, fare, currency, coalesce(cabin, 'economy') AS cabin, "
                        "channel, local::DATE AS date")


SOURCE = SourceSpec(
    name="tickets",
    required=("ticket_id", "traveller_id", "purchased_at", "departs_at", "origin", "destination",
              "destination_country", "fare", "currency"),
    optional=("cabin", "channel"),
    parse=parse,
    schema={
        "ticket_id": "BIGINT",  # keyed pseudonym of the ticket's id: it points to a person
        c.PERSON: "BIGINT", "purchased_at": "TIMESTAMPTZ", "departs_at": "TIMESTAMPTZ",
        c.LOCAL_EPOCH: "BIGINT",  # local departure time, epoch seconds
        "origin": "VARCHAR", "destination": "VARCHAR", "destination_country": "VARCHAR",
        "fare": "DOUBLE", "currency": "VARCHAR", "cabin": "VARCHAR", "channel": "VARCHAR", c.DATE: "DATE",
    },
    key=("ticket_id",),
    person_column="traveller_id",
    partition_by="date",
    time_column="departs_at",
    record=RECORD,
    linked_ids=("ticket_id",),
    references=("ref_airports", "ref_currencies"),
)
