"""Areas: a GeoJSON hierarchy (finest areas are polygons), or an H3 grid.

Cells are assigned to the finest areas, those that are no area's parent.
Parent areas may come with or without geometry. A GeoJSON feature's ``line``
is its 1-based position in the FeatureCollection.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import shapely

from popflow import columns as c
from popflow.errors import InputError
from popflow.ingest import checks as q
from popflow.ingest.parsing import text_sql
from popflow.ingest.source import IngestContext, SourceSpec

PROPERTIES = ("area_id", "name", "parent_id", "level")


def read_geojson(path: Path) -> pa.Table:
    """Features as rows: the four properties, WKT geometry and whether it is a valid polygon."""
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
        features = collection["features"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(path, f"not a GeoJSON FeatureCollection ({exc})") from exc
    rows = {name: [] for name in (*PROPERTIES, "geometry", "geometry_ok", "line")}
    for number, feature in enumerate(features, start=1):
        props = feature.get("properties") or {}
        for name in PROPERTIES:
            value = props.get(name)
            rows[name].append(None if value is None else str(value))
        wkt, ok = _polygon_wkt(feature.get("geometry"))
        rows["geometry"].append(wkt)
        rows["geometry_ok"].append(ok)
        rows["line"].append(number)
    return pa.table(rows)


def _polygon_wkt(geometry: dict | None) -> tuple[str | None, bool | None]:
    """WKT of a polygon geometry and whether it is valid; (None, None) when absent."""
    if not geometry:
        return None, None
    try:
        shape = shapely.geometry.shape(geometry)
    except (ValueError, TypeError, AttributeError, KeyError):
        return None, False
    ok = shape.geom_type in ("Polygon", "MultiPolygon") and shape.is_valid and not shape.is_empty
    return (shape.wkt if ok else None), ok


RECORD = q.Record(raw={name: name for name in PROPERTIES}, pseudonyms=())


def parse(types: dict[str, pa.DataType], ctx: IngestContext) -> str:
    checks = [
        *q.missing("area_id", "name"),
        q.Check(q.INVALID_GEOMETRY, "geometry", "geometry_ok = false"),
    ]
    parsed = f"""
        SELECT {text_sql('area_id')} AS area_id, {text_sql('name')} AS name,
               {text_sql('parent_id')} AS parent_id, {text_sql('level')} AS level, geometry, geometry_ok, line
        FROM raw"""
    return RECORD.query([("parsed", parsed)], checks, "area_id, name, parent_id, level, geometry")


def hierarchy_conflicts(accepted: str) -> str:
    """Unknown parents and finest areas without a polygon, over lake and new areas."""
    return f"""
    WITH known AS (SELECT area_id, parent_id, geometry FROM areas
                   UNION ALL SELECT area_id, parent_id, geometry FROM {accepted})
    SELECT seq, '{q.UNKNOWN_AREA}' AS reason, 'parent_id' AS "column" FROM {accepted}
    WHERE parent_id IS NOT NULL AND parent_id NOT IN (SELECT area_id FROM known)
    UNION ALL
    SELECT seq, '{q.INVALID_GEOMETRY}', 'geometry' FROM {accepted}
    WHERE geometry IS NULL AND area_id NOT IN (SELECT parent_id FROM known WHERE parent_id IS NOT NULL)
    """


SOURCE = SourceSpec(
    name="areas",
    required=PROPERTIES[:2],
    optional=PROPERTIES[2:],
    parse=parse,
    schema={
        c.AREA_ID: "VARCHAR", c.NAME: "VARCHAR", c.PARENT_ID: "VARCHAR", c.LEVEL: "VARCHAR",
        c.GEOMETRY: "VARCHAR",  # WKT in WGS 84
    },
    key=("area_id",),
    read=read_geojson,
    conflicts=hierarchy_conflicts,
    record=RECORD,
)
