"""Writing released tables as Parquet, CSV or GeoJSON (chosen by the file's suffix).

``time`` columns hold local epoch seconds inside popflow; here they become
zoned timestamps (Parquet) or ISO 8601 text with the local UTC offset (CSV,
GeoJSON). GeoJSON features carry the area polygon, or a line between the
areas' representative points for origin–destination style tables. Text
formats round money, medians and shares by their columns' roles
(``popflow.rounding``); Parquet keeps full precision.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely

from popflow.errors import PopflowError
from popflow.indicators.base import TIME_COLUMNS
from popflow.rounding import rounded

SUFFIXES = (".parquet", ".csv", ".geojson")
LINE_PAIRS = (("origin", "destination"), ("from_area", "to_area"), ("home_area_id", "work_area_id"))
AREA_COLUMNS = ("area_id", "to_area", "region_id")


def check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise PopflowError(f"{path}: output must end in {', '.join(SUFFIXES)}")
    return suffix


def check_output(path: Path) -> None:
    """Refuse, before any work, an output path with an unknown suffix or without a folder to write in."""
    check_suffix(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise PopflowError(f"{path}: folder {folder} does not exist")
    if path.is_dir():
        raise PopflowError(f"{path}: is a folder, not a file")


def zone_times(table: pa.Table, timezone: str) -> pa.Table:
    """Turn local-epoch ``time`` columns into timestamps with the workspace time zone."""
    for name in TIME_COLUMNS & set(table.column_names):
        if not pa.types.is_integer(table.schema.field(name).type):
            continue
        naive = pc.multiply(table[name].cast(pa.int64()), 1_000_000).cast(pa.timestamp("us"))
        zoned = pc.assume_timezone(naive, timezone=timezone, ambiguous="earliest", nonexistent="earliest")
        table = table.set_column(table.column_names.index(name), name, zoned)
    return table


def iso_text(table: pa.Table) -> pa.Table:
    """Zoned timestamps as ISO 8601 text with the UTC offset, e.g. 2026-01-25T08:00:00+08:00."""
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz:
            seconds = table[field.name].cast(pa.timestamp("s", tz=field.type.tz))
            text = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%S%z")
            text = pc.replace_substring_regex(text, pattern=r"([+-]\d\d)(\d\d)$", replacement=r"\1:\2")
            table = table.set_column(index, field.name, text)
    return table


def write_table(table: pa.Table, path: Path, geometries: dict[str, str] | None = None) -> None:
    """Write one table; ``geometries`` maps area_id → WKT for GeoJSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = check_suffix(path)
    if suffix == ".parquet":
        pq.write_table(table, path)
    elif suffix == ".csv":
        text = iso_text(rounded(table))
        quoting = _csv_quoting(text)
        pacsv.write_csv(text, path, pacsv.WriteOptions(quoting_style=quoting, quoting_header=quoting))
    else:
        path.write_text(json.dumps(geojson(iso_text(rounded(table)), geometries or {})))


def _csv_quoting(table: pa.Table) -> str:
    """Quote strings only when some value holds a comma, quote or line break."""
    for field in table.schema:
        if pa.types.is_string(field.type) and pc.any(
            pc.match_substring_regex(table[field.name], r'[,"\r\n]')
        ).as_py():
            return "needed"
    return "none"


def geojson(table: pa.Table, geometries: dict[str, str]) -> dict:
    """A FeatureCollection: one feature per row, geometry from the row's area(s)."""
    rows = table.to_pylist()
    shapes = {k: shapely.from_wkt(v) for k, v in geometries.items() if v}
    features = []
    for row in rows:
        geometry = _row_geometry(row, shapes)
        features.append({"type": "Feature", "properties": _jsonable(row),
                         "geometry": shapely.geometry.mapping(geometry) if geometry is not None else None})
    return {"type": "FeatureCollection", "features": features}


def _row_geometry(row: dict, shapes: dict):
    for start, end in LINE_PAIRS:
        if start in row and end in row:
            a, b = shapes.get(row[start]), shapes.get(row[end])
            if a is None or b is None:
                return None
            return shapely.LineString([a.representative_point(), b.representative_point()])
    for name in AREA_COLUMNS:
        if name in row:
            return shapes.get(row[name])
    return None


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


def sibling_path(path: Path, table: str) -> Path:
    """Where a release's extra table goes: ``migration.csv`` → ``migration.arrivals.csv``."""
    return path.with_name(f"{path.stem}.{table}{path.suffix}")
