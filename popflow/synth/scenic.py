"""Scenic districts: the region's hills, lakes and old towns that draw tourists.

Three or four districts are scenic. They are drawn away from the city cores (a
district's chance grows with the square of its distance to the nearest core, and a
core district is never scenic), so tourists there stand out against few residents.
The choice is recorded in `truth/scenic.json` as `{"scenic_districts": ["D07", ...]}`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from popflow.synth.geography import Geography, pairwise_km

SCENIC_COUNTS = (3, 4)


def core_districts(geo: Geography) -> np.ndarray:
    """The district at the centre of each city."""
    return np.argmin(pairwise_km(geo.city_cores_km, geo.centroids_km), axis=1)


def pick_scenic(rng: np.random.Generator, geo: Geography) -> np.ndarray:
    """Indices of the scenic districts, in ascending order (int16)."""
    count = int(rng.integers(SCENIC_COUNTS[0], SCENIC_COUNTS[1] + 1))
    remoteness = geo.distance_to_core_km(geo.centroids_km[:, 0], geo.centroids_km[:, 1])
    weight = remoteness**2
    weight[core_districts(geo)] = 0.0
    chosen = rng.choice(geo.districts, size=count, replace=False, p=weight / weight.sum())
    return np.sort(chosen).astype(np.int16)


def write_scenic(geo: Geography, scenic: np.ndarray, path: Path) -> None:
    """Write `truth/scenic.json`."""
    ids = [geo.district_ids[d] for d in scenic.tolist()]
    path.write_text(json.dumps({"scenic_districts": ids}, indent=2) + "\n", encoding="utf-8")
