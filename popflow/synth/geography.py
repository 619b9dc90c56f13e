"""The synthetic region: one province, 3-4 cities and 24 districts.

Districts are the Voronoi cells of a jittered 6 x 4 grid of seed points, clipped to a
60 km x 40 km rectangle centred near latitude 23.1, longitude 113.3, so they tile the
region without overlap. Each city owns the districts nearest to its core district;
population density falls off with the distance to the city cores, which makes the
core districts the busiest. Geometry is built in a flat kilometre plane and turned
into longitude/latitude only for output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon, box, mapping

from popflow import columns as col

CENTRE_LAT, CENTRE_LON = 23.1, 113.3
WIDTH_KM, HEIGHT_KM = 60.0, 40.0
GRID_COLUMNS, GRID_ROWS = 6, 4
KM_PER_DEGREE_LAT = 111.32
KM_PER_DEGREE_LON = KM_PER_DEGREE_LAT * np.cos(np.radians(CENTRE_LAT))
COORDINATE_GRID = 1e-6  # degrees (about 0.1 m) to which output geometry is snapped
DENSITY_FALLOFF_KM = 7.0
SYLLABLES = (
    "Bai", "Jin", "Long", "Hua", "Xin", "Tian", "Dong", "Nan", "Lian", "Bei",
    "Shan", "He", "Hai", "Lin", "Feng", "Yu", "Qiao", "Song", "Mei", "Yun",
)


@dataclass(frozen=True)
class Geography:
    """Districts (the finest areas) with their cities, in index order."""

    district_ids: list[str]
    district_names: list[str]
    district_city: np.ndarray  # index of each district's city
    shapes_km: list[Polygon]  # district polygons in the kilometre plane
    shapes: list[Polygon]  # the same polygons in longitude/latitude, as written
    centroids_km: np.ndarray  # (districts, 2)
    density: np.ndarray  # relative resident density weight per district, sums to 1
    neighbour_start: np.ndarray  # CSR offsets into neighbour_list, one per district + 1
    neighbour_list: np.ndarray  # districts sharing a border, grouped by district
    city_ids: list[str]
    city_names: list[str]
    city_cores_km: np.ndarray  # (cities, 2) centre of each city
    province_id: str = "P1"
    province_name: str = "Lingnan Province"

    @property
    def districts(self) -> int:
        return len(self.district_ids)

    def distances_km(self) -> np.ndarray:
        """Distances between district centroids, (districts, districts)."""
        return pairwise_km(self.centroids_km, self.centroids_km)

    def distance_to_core_km(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Distance of each point of the kilometre plane to its nearest city core."""
        return pairwise_km(np.column_stack([x, y]), self.city_cores_km).min(axis=1)


def km_to_lonlat(xy: np.ndarray) -> np.ndarray:
    """Longitude/latitude of points of the kilometre plane, (n, 2) -> (n, 2)."""
    lon = CENTRE_LON + (xy[:, 0] - WIDTH_KM / 2) / KM_PER_DEGREE_LON
    lat = CENTRE_LAT + (xy[:, 1] - HEIGHT_KM / 2) / KM_PER_DEGREE_LAT
    return np.column_stack([lon, lat])


def district_seeds(rng: np.random.Generator) -> np.ndarray:
    """One seed point per grid cell, jittered within the middle 70 % of the cell."""
    cell_w, cell_h = WIDTH_KM / GRID_COLUMNS, HEIGHT_KM / GRID_ROWS
    gx, gy = np.meshgrid(np.arange(GRID_COLUMNS), np.arange(GRID_ROWS))
    jitter = rng.uniform(-0.35, 0.35, size=(gx.size, 2))
    x = (gx.ravel() + 0.5 + jitter[:, 0]) * cell_w
    y = (gy.ravel() + 0.5 + jitter[:, 1]) * cell_h
    return np.column_stack([x, y])


def voronoi_districts(seeds: np.ndarray) -> list[Polygon]:
    """Voronoi cells of the seeds clipped to the region, in seed order."""
    region = box(0.0, 0.0, WIDTH_KM, HEIGHT_KM)
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=region)
    clipped = [cell.intersection(region) for cell in cells.geoms]
    ordered: list[Polygon] = []
    for x, y in seeds:
        owner = [cell for cell in clipped if shapely.contains_xy(cell, x, y)]
        ordered.append(owner[0])
    return ordered


def pairwise_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances between the points of a (n, 2) and b (m, 2), shape (n, m)."""
    return np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])


def city_cores(rng: np.random.Generator, centroids: np.ndarray, cities: int) -> np.ndarray:
    """Core district of each city: cities lie side by side from west to east, each core
    nearest a jittered point in the middle of its city's band of the region."""
    band = WIDTH_KM / cities
    targets = np.column_stack([
        (np.arange(cities) + 0.5 + rng.uniform(-0.15, 0.15, cities)) * band,
        HEIGHT_KM * (0.5 + rng.uniform(-0.2, 0.2, cities)),
    ])
    cores: list[int] = []
    for distances in pairwise_km(targets, centroids):
        distances[cores] = np.inf
        cores.append(int(np.argmin(distances)))
    return np.array(cores)


def neighbours(shapes: list[Polygon]) -> tuple[np.ndarray, np.ndarray]:
    """For each district, the districts sharing a border with it, in CSR form."""
    start, found = [0], []
    for index, shape in enumerate(shapes):
        shared = shapely.intersection(shape.boundary, [other.boundary for other in shapes])
        touching = np.flatnonzero(shapely.length(shared) > 0.01)
        found.extend(int(other) for other in touching if other != index)
        start.append(len(found))
    return np.array(start, dtype=np.int32), np.array(found, dtype=np.int16)


def district_names(rng: np.random.Generator, count: int) -> list[str]:
    """Distinct invented two-syllable place names."""
    pairs = [a + b.lower() for a in SYLLABLES for b in SYLLABLES if a != b]
    return [pairs[i] for i in rng.choice(len(pairs), size=count, replace=False)]


def to_lonlat(shape_km: Polygon) -> Polygon:
    """A kilometre-plane polygon in longitude/latitude, snapped to the output grid."""
    converted = shapely.transform(shape_km, km_to_lonlat)
    return shapely.set_precision(converted, COORDINATE_GRID)


def build_geography(rng: np.random.Generator) -> Geography:
    """Draw the districts, group them into cities and weight them by density."""
    shapes = voronoi_districts(district_seeds(rng))
    centroids = np.array([[shape.centroid.x, shape.centroid.y] for shape in shapes])
    cities = int(rng.integers(3, 5))
    cores_km = centroids[city_cores(rng, centroids, cities)]
    city_of = np.argmin(pairwise_km(centroids, cores_km), axis=1)
    order = np.argsort(city_of, kind="stable")  # number districts city by city
    shapes, centroids, city_of = [shapes[i] for i in order], centroids[order], city_of[order]
    city_size = rng.uniform(0.6, 1.4, size=cities)
    density = (city_size * np.exp(-pairwise_km(centroids, cores_km) / DENSITY_FALLOFF_KM)).sum(1)
    density += 0.05 * density.max()  # even the remotest district has some residents
    start, found = neighbours(shapes)
    names = district_names(rng, len(shapes) + cities)
    return Geography(
        district_ids=[f"D{i + 1:02d}" for i in range(len(shapes))],
        district_names=names[:len(shapes)],
        district_city=city_of,
        shapes_km=shapes,
        shapes=[to_lonlat(shape) for shape in shapes],
        centroids_km=centroids,
        density=density / density.sum(),
        neighbour_start=start,
        neighbour_list=found,
        city_ids=[f"C{c + 1}" for c in range(cities)],
        city_names=[f"{name} City" for name in names[len(shapes):]],
        city_cores_km=cores_km,
    )


def area_features(geo: Geography) -> list[dict]:
    """GeoJSON features: the province, its cities and their districts."""
    city_shapes = [
        _union([geo.shapes[d] for d in np.flatnonzero(geo.district_city == city)])
        for city in range(len(geo.city_ids))
    ]
    province = _union(geo.shapes)
    features = [_feature(geo.province_id, geo.province_name, None, "province", province)]
    for city_id, name, shape in zip(geo.city_ids, geo.city_names, city_shapes, strict=True):
        features.append(_feature(city_id, name, geo.province_id, "city", shape))
    for index, area_id in enumerate(geo.district_ids):
        parent = geo.city_ids[geo.district_city[index]]
        name = geo.district_names[index]
        features.append(_feature(area_id, name, parent, "district", geo.shapes[index]))
    return features


def _union(shapes: list[Polygon]):
    """The union of district shapes, snapped to the output grid."""
    return shapely.set_precision(shapely.union_all(shapes), COORDINATE_GRID)


def _feature(area_id: str, name: str, parent: str | None, level: str, shape) -> dict:
    properties = {col.AREA_ID: area_id, col.NAME: name}
    if parent is not None:
        properties[col.PARENT_ID] = parent
    properties[col.LEVEL] = level
    geometry = mapping(shape)
    geometry["coordinates"] = _rounded(geometry["coordinates"])
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _rounded(coordinates):
    """Nested coordinate sequences with every number rounded to 6 decimals."""
    if isinstance(coordinates[0], float):
        return [round(value, 6) for value in coordinates]
    return [_rounded(part) for part in coordinates]


def write_areas(geo: Geography, path: Path) -> None:
    """Write the area hierarchy as a GeoJSON FeatureCollection."""
    collection = {"type": "FeatureCollection", "features": area_features(geo)}
    path.write_text(json.dumps(collection, separators=(",", ":")) + "\n", encoding="utf-8")
