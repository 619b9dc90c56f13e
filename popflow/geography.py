"""Areas as geometry and hierarchy: point-in-area lookup, H3 grids, level roll-up."""

from __future__ import annotations

import h3
import numpy as np
import pyarrow as pa
import shapely

from popflow.errors import PopflowError

H3_LEVEL = "h3_{}"


class AreaIndex:
    """Finds the finest area containing each point (smallest area_id on a shared border)."""

    def __init__(self, area_ids: list[str], wkts: list[str]):
        self.area_ids = np.array(area_ids, dtype=object)
        self.tree = shapely.STRtree(shapely.from_wkt(wkts))

    def lookup(self, lat: pa.Array, lon: pa.Array) -> pa.Array:
        """Area ids of points (NULL where outside every area or the position is NULL)."""
        lat_np = lat.to_numpy(zero_copy_only=False)
        lon_np = lon.to_numpy(zero_copy_only=False)
        points = shapely.points(lon_np, lat_np)
        found = np.full(len(points), None, dtype=object)
        valid = ~(np.isnan(lat_np) | np.isnan(lon_np))
        point_idx, area_idx = self.tree.query(points[valid], predicate="intersects")
        rows = np.flatnonzero(valid)[point_idx]
        # Visit matches in descending id order so the smallest id is written last.
        order = np.argsort(self.area_ids[area_idx].astype(str))[::-1]
        found[rows[order]] = self.area_ids[area_idx[order]]
        return pa.array(found, pa.string())


def h3_lookup(resolution: int):
    """A lookup giving each point's H3 cell at ``resolution``."""

    def lookup(lat: pa.Array, lon: pa.Array) -> pa.Array:
        return pa.array(
            [None if a is None or b is None else h3.latlng_to_cell(a, b, resolution)
             for a, b in zip(lat.to_pylist(), lon.to_pylist(), strict=True)],
            pa.string(),
        )

    return lookup


def h3_boundary_wkt(cell: str) -> str:
    """WKT polygon of an H3 cell."""
    ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
    return shapely.Polygon(ring).wkt


def finest_areas(rows: list[dict]) -> list[dict]:
    """Areas that are no area's parent."""
    parents = {r["parent_id"] for r in rows if r["parent_id"]}
    return [r for r in rows if r["area_id"] not in parents]


def level_map(rows: list[dict], level: str | None) -> pa.Table:
    """``area_id`` (finest) → ``target_id``: itself, or its ancestor at ``level``.

    Finest areas with no ancestor at that level are left out.
    """
    by_id = {r["area_id"]: r for r in rows}
    levels = {r["level"] for r in rows}
    if level is not None and level not in levels:
        raise PopflowError(f"unknown area level '{level}' (levels: {', '.join(sorted(map(str, levels)))})")
    pairs = []
    for area in finest_areas(rows):
        target = area
        for _ in range(len(rows)):  # bounded: a parent cycle cannot loop forever
            if level is None or target is None or target["level"] == level:
                break
            target = by_id.get(target["parent_id"]) if target["parent_id"] else None
        if target is not None:
            pairs.append((area["area_id"], target["area_id"]))
    return pa.table({"area_id": [a for a, _ in pairs], "target_id": [t for _, t in pairs]},
                    schema=pa.schema([("area_id", pa.string()), ("target_id", pa.string())]))


def area_geometries(rows: list[dict], h3_resolution: int | None = None) -> dict[str, str]:
    """WKT per area_id; a parent without geometry gets the union of its finest areas."""
    if h3_resolution is not None:
        return {r["area_id"]: h3_boundary_wkt(r["area_id"]) for r in rows}
    shapes = {r["area_id"]: shapely.from_wkt(r["geometry"]) for r in rows if r["geometry"]}
    children: dict[str, list[str]] = {}
    for r in rows:
        if r["parent_id"]:
            children.setdefault(r["parent_id"], []).append(r["area_id"])

    def shape_of(area_id: str, depth: int = 0):
        if area_id in shapes or depth > len(rows):
            return shapes.get(area_id)
        parts = [s for c in children.get(area_id, []) if (s := shape_of(c, depth + 1)) is not None]
        shapes[area_id] = shapely.union_all(parts) if parts else None
        return shapes[area_id]

    return {r["area_id"]: (g.wkt if (g := shape_of(r["area_id"])) is not None else None) for r in rows}
