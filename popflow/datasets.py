"""Schemas of the lake's datasets, declared once (DuckDB types; Parquet on disk)."""

from __future__ import annotations

from popflow import columns as c

SCHEMAS: dict[str, dict[str, str]] = {
    "areas": {
        c.AREA_ID: "VARCHAR", c.NAME: "VARCHAR", c.PARENT_ID: "VARCHAR", c.LEVEL: "VARCHAR",
        c.GEOMETRY: "VARCHAR",  # WKT in WGS 84
    },
    "cells": {
        c.CELL_ID: "VARCHAR", c.LATITUDE: "DOUBLE", c.LONGITUDE: "DOUBLE",
        c.VALID_FROM: "TIMESTAMPTZ", c.VALID_TO: "TIMESTAMPTZ",
        c.AREA_ID: "VARCHAR",  # finest area holding the cell; NULL when outside every area
    },
    "subscribers": {
        c.PERSON: "BIGINT", c.GENDER: "VARCHAR", c.AGE_BAND: "VARCHAR",
        c.ORIGIN_REGION: "VARCHAR", c.REGISTERED_ON: "DATE",
    },
    "events": {
        c.PERSON: "BIGINT", c.LOCAL_EPOCH: "BIGINT",
        c.CELL_ID: "VARCHAR", c.AREA_ID: "VARCHAR", c.EVENT_TYPE: "VARCHAR", c.MCC: "VARCHAR",
        c.DATE: "DATE",
    },
    "population": {c.AREA_ID: "VARCHAR", c.POPULATION: "BIGINT", c.ADULTS: "BIGINT", c.GENDER: "VARCHAR",
                   c.AGE_BAND: "VARCHAR"},
    "tickets": {
        "ticket_id": "BIGINT",  # keyed pseudonym of the ticket's id: it points to a person
        c.PERSON: "BIGINT", "purchased_at": "TIMESTAMPTZ", "departs_at": "TIMESTAMPTZ",
        c.LOCAL_EPOCH: "BIGINT",  # local departure time, epoch seconds
        "origin": "VARCHAR", "destination": "VARCHAR", "destination_country": "VARCHAR",
        "fare": "DOUBLE", "currency": "VARCHAR", "cabin": "VARCHAR", "channel": "VARCHAR", c.DATE: "DATE",
    },
    "sales": {
        "order_id": "BIGINT",  # keyed pseudonym of the order's id
        c.PERSON: "BIGINT", "ordered_at": "TIMESTAMPTZ", c.LOCAL_EPOCH: "BIGINT",
        "region_id": "VARCHAR", "category": "VARCHAR", "amount": "DOUBLE", "currency": "VARCHAR",
        "channel": "VARCHAR", c.DATE: "DATE",
    },
    "fx": {c.DATE: "DATE", "currency": "VARCHAR", "rate_to_base": "DOUBLE"},
    "holidays": {c.DATE: "DATE", c.NAME: "VARCHAR"},
    "regions": {"code": "VARCHAR", c.NAME: "VARCHAR", "parent": "VARCHAR"},
}

QUARANTINE_SCHEMA: dict[str, str] = {
    c.SOURCE: "VARCHAR", c.FILE: "VARCHAR", c.LINE: "BIGINT", c.REASON: "VARCHAR",
    c.COLUMN: "VARCHAR", c.RECORD: "VARCHAR",
}

def empty_select(schema: dict[str, str]) -> str:
    """A SQL query with the schema's columns and no rows."""
    cols = ", ".join(f'NULL::{t} AS "{n}"' for n, t in schema.items())
    return f"SELECT {cols} LIMIT 0"
