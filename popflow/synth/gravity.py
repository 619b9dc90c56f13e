"""Destination choice between districts by a gravity model.

The chance of going from district i to district j is proportional to
attraction(j) * exp(-distance(i, j) / decay), where attraction is the district's
density raised to a power: a power above 1 makes central districts pull harder,
a short decay keeps trips local. Sightseeing also pulls toward the scenic districts,
each as strongly as the busiest central district.
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


SCENIC_PULL = 1.0  # attraction of a scenic district, relative to the busiest central one


def gravity(
    geo: Geography, decay_km: float, attraction_power: float, exclude_origin: bool = False
) -> DestinationChoice:
    """A gravity model over the districts of `geo`."""
    return gravity_by_attraction(geo, geo.density**attraction_power, decay_km, exclude_origin)


def gravity_by_attraction(
    geo: Geography, attraction: np.ndarray, decay_km: float, exclude_origin: bool = False
) -> DestinationChoice:
    """A gravity model with a given attraction per district."""
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
    sightseeing: DestinationChoice  # visitors: central and scenic districts, distance hardly matters


def sightseeing_attraction(geo: Geography, scenic: np.ndarray) -> np.ndarray:
    """Central districts by the square of their density, plus the scenic districts' pull."""
    central = geo.density**2
    attraction = central / central.max()
    attraction[scenic] += SCENIC_PULL
    return attraction


def trip_choices(geo: Geography, scenic: np.ndarray) -> TripChoices:
    return TripChoices(
        work=gravity(geo, decay_km=10.0, attraction_power=1.5),
        school=gravity(geo, decay_km=3.0, attraction_power=0.3),
        outing=gravity(geo, decay_km=7.0, attraction_power=1.2),
        relocation=gravity(geo, decay_km=12.0, attraction_power=1.0, exclude_origin=True),
        overnight=gravity(geo, decay_km=10.0, attraction_power=1.0, exclude_origin=True),
        sightseeing=gravity_by_attraction(geo, sightseeing_attraction(geo, scenic), decay_km=30.0),
    )
