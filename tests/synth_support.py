"""What the synthetic-world tests share: reading the world's files back."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import shapely
from shapely.geometry import shape


def cell_districts(folder: Path) -> dict[str, str]:
    """Each tower's district, by point in polygon over the world's areas."""
    features = json.loads((folder / "areas.geojson").read_text())["features"]
    polygons = {f["properties"]["area_id"]: shape(f["geometry"])
                for f in features if f["properties"]["level"] == "district"}
    cells = pd.read_csv(folder / "cells.csv", dtype={"cell_id": str})
    return {row.cell_id: next(a for a, p in polygons.items() if p.contains(shapely.Point(row.longitude, row.latitude)))
            for row in cells.itertuples()}
