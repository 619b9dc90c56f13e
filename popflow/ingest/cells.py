"""Cell towers: position and validity period, assigned to the finest area holding them.

A cell outside every area is kept (with no area) and reported; its events are
quarantined. Versions of one cell must not overlap in time. Validity bounds may
lie before the time window (towers are older than their events) but must be
finite: an open end is left empty, and ``infinity`` is quarantined as an
implausible time.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from popflow import columns as c
from popflow.ingest import checks as q
from popflow.ingest.parsing import instant_sql, number_sql, text_sql
from popflow.ingest.source import IngestContext, SourceSpec


def prepare(table: pa.Table, ctx: IngestContext) -> pa.Table:
    """Add the ``area`` column: the finest area containing each cell's position."""
    lat = _as_float(table["latitude"])
    lon = _as_float(table["longitude"])
    return table.append_column("area", ctx.area_lookup(lat, lon))


def _as_float(values: pa.ChunkedArray) -> pa.Array:
    text = pc.utf8_trim_whitespace(values.cast(pa.string()))
    ok = pc.match_substring_regex(text, r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
    return pc.if_else(pc.fill_null(ok, False), text, None).cast(pa.float64())


RECORD = q.Record(
    raw={"cell_id": "cell_id", "latitude": "lat_text", "longitude": "lon_text", "valid_from": "from_text",
         "valid_to": "to_text"},
    pseudonyms=(),
)


def parse(types: dict[str, pa.DataType], ctx: IngestContext) -> str:
    checks = [
        *q.missing("cell_id", "lat_text", "lon_text"),
        q.Check(q.INVALID_VALUE, "latitude", "latitude IS NULL OR latitude NOT BETWEEN -90 AND 90"),
        q.Check(q.INVALID_VALUE, "longitude", "longitude IS NULL OR longitude NOT BETWEEN -180 AND 180"),
        q.Check(q.UNPARSABLE_TIME, "valid_from", "from_text IS NOT NULL AND valid_from IS NULL"),
        q.Check(q.UNPARSABLE_TIME, "valid_to", "to_text IS NOT NULL AND valid_to IS NULL"),
        q.Check(q.IMPLAUSIBLE_TIME, "valid_from", "NOT isfinite(valid_from)"),
        q.Check(q.IMPLAUSIBLE_TIME, "valid_to", "NOT isfinite(valid_to)"),
        q.Check(q.INVALID_VALUE, "valid_to", "valid_to <= valid_from"),
    ]
    parsed = f"""
        SELECT line, {text_sql('cell_id')} AS cell_id,
               {text_sql('latitude')} AS lat_text, {number_sql('latitude')} AS latitude,
               {text_sql('longitude')} AS lon_text, {number_sql('longitude')} AS longitude,
               {text_sql('valid_from')} AS from_text, {instant_sql('valid_from', types['valid_from'])} AS valid_from,
               {text_sql('valid_to')} AS to_text, {instant_sql('valid_to', types['valid_to'])} AS valid_to,
               area AS area_id
        FROM raw"""
    return RECORD.query([("parsed", parsed)], checks, "cell_id, latitude, longitude, valid_from, valid_to, area_id")


def overlaps_sql(accepted: str) -> str:
    """Rows of ``accepted`` whose validity overlaps an earlier-listed version of the cell."""
    return f"""
    SELECT b.seq, '{q.OVERLAPPING_VALIDITY}' AS reason, 'valid_from' AS "column"
    FROM {accepted} a JOIN {accepted} b
      ON a.cell_id = b.cell_id AND a.seq < b.seq
     AND coalesce(a.valid_from, '-infinity'::TIMESTAMPTZ) < coalesce(b.valid_to, 'infinity'::TIMESTAMPTZ)
     AND coalesce(b.valid_from, '-infinity'::TIMESTAMPTZ) < coalesce(a.valid_to, 'infinity'::TIMESTAMPTZ)
    UNION
    SELECT b.seq, '{q.OVERLAPPING_VALIDITY}', 'valid_from' FROM cells a JOIN {accepted} b
      ON a.cell_id = b.cell_id
     AND coalesce(a.valid_from, '-infinity'::TIMESTAMPTZ) < coalesce(b.valid_to, 'infinity'::TIMESTAMPTZ)
     AND coalesce(b.valid_from, '-infinity'::TIMESTAMPTZ) < coalesce(a.valid_to, 'infinity'::TIMESTAMPTZ)
    """


SOURCE = SourceSpec(
    name="cells",
    required=("cell_id", "latitude", "longitude"),
    optional=("valid_from", "valid_to"),
    parse=parse,
    schema={
        c.CELL_ID: "VARCHAR", c.LATITUDE: "DOUBLE", c.LONGITUDE: "DOUBLE",
        c.VALID_FROM: "TIMESTAMPTZ", c.VALID_TO: "TIMESTAMPTZ",
        c.AREA_ID: "VARCHAR",  # finest area holding the cell; NULL when outside every area
    },
    reads=("areas",),
    prepare=prepare,
    conflicts=overlaps_sql,
    record=RECORD,
)
