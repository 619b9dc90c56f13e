"""Destination choice between districts by a gravity model.

The chance of going from district i to district j is proportional to
attraction(j) * exp(-distance(i, j) / decay), where attraction is the district's
density raised to a power: a power above 1 makes central districts pull harder,
a short decay keeps trips local.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from popflow.synth.geography import Geography


@dataclass(frozen=True)
class DestinationChoice:
    """Cumulative destination probabilities, one row per origin district."""

    cumulative: np.ndarray  # (districts, districts), each row ends at 1.0

    def draw(self, rng: np.random.Generator, origins: np.ndarray) -> np.ndarray:
        """One destination district (int16) per origin."""
        uniform = rng.random(len(origins))
        destinations = np.empty(len(origins), dtype=np.int16)
        for origin in np.unique(origins):
            rows = origins == origin
            row = self.cumulative[origin]
            destinations[rows] = np.minimum(np.searchsorted(row, uniform[rows], "right"), len(row) - 1)
        return destinations


def gravity(
    geo: Geography, decay_km: float, attraction_power: float, exclude_origin: bool = False
) -> DestinationChoice:
    """A gravity model over the districts of `geo`."""
    attraction = geo.density**attraction_power
    weight = attraction[None, :] * np.exp(-geo.distances_km() / decay_km)
    if exclude_origin:
        np.fill_diagonal(weight, 0.0)
    cumulative = np.cumsum(weight, axis=1)
    return DestinationChoice(cumulative / cumulative[:, -1:])


@dataclass(frozen=True)
class TripChoices:
    """The destination models the scenario uses, one per kind of trip."""

    work: DestinationChoice  # workplaces: fairly far, central districts attract
    school: DestinationChoice  # schools: near home
    outing: DestinationChoice  # evening and weekend leisure trips
    relocation: DestinationChoice  # a mover's new home district, never the old one
    overnight: DestinationChoice  # a rare night spent away from home
    sightseeing: DestinationChoice  # visitors: central districts, distance hardly matters


def trip_choices(geo: Geography) -> TripChoices:
    return TripChoices(
        work=gravity(geo, decay_km=10.0, attraction_power=1.5),
        school=gravity(geo, decay_km=3.0, attraction_power=0.3),
        outing=gravity(geo, decay_km=7.0, attraction_power=1.2),
        relocation=gravity(geo, decay_km=12.0, attraction_power=1.0, exclude_origin=True),
        overnight=gravity(geo, decay_km=10.0, attraction_power=1.0, exclude_origin=True),
        sightseeing=gravity(geo, decay_km=30.0, attraction_power=2.0),
    )
