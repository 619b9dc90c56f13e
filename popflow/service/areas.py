"""The workspace's areas for the API and the map: levels, geometries and GeoJSON per level.

Computed once per state of the ingested areas (the areas and cells batches),
so a later ingest is picked up without restarting the service.
"""

from __future__ import annotations

import json
import threading
import time

import shapely

from popflow.geography import area_geometries
from popflow.service.scope import level_order

RECHECK_SECONDS = 2.0  # how often the ingested areas are looked at again


class AreaCatalogue:
    """Area rows, level order, WKT geometries and GeoJSON by level of one workspace."""

    def __init__(self, workspace):
        self.ws = workspace
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._state: dict = {}
        self._checked = -1.0

    def _signature(self) -> tuple:
        return tuple(b["id"] for source in ("areas", "cells") for b in self.ws.lake.batches(source))

    def _load(self) -> dict:
        with self._lock:
            if time.monotonic() - self._checked < RECHECK_SECONDS:
                return self._state
            self._checked = time.monotonic()
            key = self._signature()
            if key != self._key:
                rows = self.ws.area_rows()
                self._state = {"rows": rows, "levels": level_order(rows), "geojson": {},
                               "wkt": area_geometries(rows, self.ws.h3_resolution()) if rows else {}}
                self._key = key
            return self._state

    def rows(self) -> list[dict]:
        return self._load()["rows"]

    def levels(self) -> list[str]:
        """Level names from the coarsest to the finest."""
        return self._load()["levels"]

    def geometries(self) -> dict[str, str]:
        """area_id → WKT (parents without geometry as the union of their areas)."""
        return self._load()["wkt"]

    def geojson(self, level: str | None) -> bytes | None:
        """A FeatureCollection of the areas at ``level`` (None: the finest), or None for an unknown level."""
        state = self._load()
        levels = state["levels"]
        level = level if level is not None else (levels[-1] if levels else None)
        if level not in levels:
            return None
        if level not in state["geojson"]:
            state["geojson"][level] = json.dumps(_collection(state["rows"], state["wkt"], level)).encode()
        return state["geojson"][level]


def _collection(rows: list[dict], wkt: dict[str, str], level: str) -> dict:
    features = []
    for row in rows:
        if str(row["level"]) != level or not wkt.get(row["area_id"]):
            continue
        shape = shapely.from_wkt(wkt[row["area_id"]])
        point = shape.representative_point()
        features.append({
            "type": "Feature", "id": row["area_id"],
            "properties": {"area_id": row["area_id"], "name": row["name"], "level": level,
                           "parent_id": row["parent_id"], "label": [round(point.x, 6), round(point.y, 6)]},
            "geometry": shapely.geometry.mapping(shape),
        })
    return {"type": "FeatureCollection", "level": level, "features": features}
