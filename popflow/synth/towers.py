"""Cell towers: where they stand and which district each serves.

About one tower per 400 synthetic people, at least three per district and at most
4 000 in all. Districts get towers in proportion to their population density, and
within a district towers cluster toward the nearest city core. Every tower stands
at least 150 m inside its district's border, so assigning it to a district by
point-in-polygon gives the district it was generated for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import shapely
from shapely.geometry import Polygon

from popflow import columns as col
from popflow.synth.csv_files import write_csv
from popflow.synth.geography import Geography, km_to_lonlat

PEOPLE_PER_TOWER = 400
MIN_TOWERS_PER_DISTRICT = 3
MAX_TOWERS = 4000
BORDER_MARGIN_KM = 0.15
CLUSTERING_KM = 4.0


@dataclass(frozen=True)
class Towers:
    """Towers ordered by district; the towers of district d are first[d]:first[d]+count[d]."""

    ids: pa.Array  # string cell ids
    latitude: np.ndarray
    longitude: np.ndarray
    district: np.ndarray  # int16
    first: np.ndarray  # int32 index of each district's first tower
    count: np.ndarray  # int32 towers per district

    def __len__(self) -> int:
        return len(self.district)

    def pick(self, rng: np.random.Generator, districts: np.ndarray) -> np.ndarray:
        """A uniformly drawn tower of each given district (int32 tower indices)."""
        offset = (rng.random(len(districts)) * self.count[districts]).astype(np.int32)
        return self.first[districts] + offset


def towers_per_district(density: np.ndarray, people: int) -> np.ndarray:
    """Split the tower budget over districts: a floor of three, the rest by density."""
    districts = len(density)
    floor = MIN_TOWERS_PER_DISTRICT * districts
    total = max(floor, min(MAX_TOWERS, round(people / PEOPLE_PER_TOWER)))
    share = density / density.sum() * (total - floor)
    extra = np.floor(share).astype(np.int64)
    remainder_order = np.argsort(-(share - extra), kind="stable")
    extra[remainder_order[: total - floor - extra.sum()]] += 1
    return (extra + MIN_TOWERS_PER_DISTRICT).astype(np.int32)


def points_in_district(
    rng: np.random.Generator, shape: Polygon, count: int, geo: Geography
) -> np.ndarray:
    """`count` distinct points inside the shrunken shape, denser toward city cores."""
    inner = shape.buffer(-BORDER_MARGIN_KM)
    x0, y0, x1, y1 = inner.bounds
    inside = np.empty((0, 2))
    while len(inside) < 4 * count + 20:
        candidates = rng.uniform((x0, y0), (x1, y1), size=(8 * count + 64, 2))
        keep = shapely.contains_xy(inner, candidates[:, 0], candidates[:, 1])
        inside = np.vstack([inside, candidates[keep]])
    weight = np.exp(-geo.distance_to_core_km(inside[:, 0], inside[:, 1]) / CLUSTERING_KM)
    chosen = rng.choice(len(inside), size=count, replace=False, p=weight / weight.sum())
    return inside[chosen]


def place_towers(rng: np.random.Generator, geo: Geography, people: int) -> Towers:
    """Draw tower positions for every district of `geo`."""
    count = towers_per_district(geo.density, people)
    points = [points_in_district(rng, geo.shapes_km[d], int(count[d]), geo) for d in range(len(count))]
    lonlat = np.round(km_to_lonlat(np.vstack(points)), 6)
    first = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int32)
    total = int(count.sum())
    return Towers(
        ids=pa.array([f"T{number:05d}" for number in range(1, total + 1)]),
        latitude=lonlat[:, 1],
        longitude=lonlat[:, 0],
        district=np.repeat(np.arange(len(count), dtype=np.int16), count),
        first=first,
        count=count,
    )


def write_cells(towers: Towers, path: Path) -> None:
    """Write `cells.csv`: cell_id, latitude, longitude."""
    table = pa.table(
        {col.CELL_ID: towers.ids, col.LATITUDE: towers.latitude, col.LONGITUDE: towers.longitude}
    )
    write_csv(table, path)
