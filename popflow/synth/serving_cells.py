"""Which tower serves each network event: usual towers, and handover ping-pong at borders.

In every district a person spends time in, one tower is their usual one (the
nearest to where they are): it serves 75 % of their events there, any tower of
the district the rest. One person-district pair in five lies near the
district's border: there a tower across the border, in a neighbouring district,
serves 40 % of the events in alternation with the usual one - the ping-pong of
a phone between two cells minutes apart, which is no move of the person.
Anywhere, 2 % of events reach a tower of a neighbouring district (a stray
stronger signal). Usual towers and border places follow from the person's
place key and the district, so they stay the same over the whole period.
"""

from __future__ import annotations

import numpy as np

from popflow.synth.geography import Geography
from popflow.synth.towers import Towers

USUAL_TOWER_SHARE = 0.75
BORDER_PLACE_SHARE = 0.2
ACROSS_BORDER_SHARE = 0.4
STRAY_SHARE = 0.02
# Salts of the place hash, one per fixed choice made for a person in a district.
USUAL_TOWER, NEAR_BORDER, NEIGHBOUR, TOWER_ACROSS = 1, 2, 3, 4
_MULTIPLIERS = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


def place_fraction(keys: np.ndarray, districts: np.ndarray, salt: int) -> np.ndarray:
    """A fixed pseudo-random number in [0, 1) per (place key, district, salt)."""
    first, second, third = _MULTIPLIERS
    x = keys.astype(np.uint64) * first + (districts.astype(np.uint64) + np.uint64(salt << 8)) * second
    x ^= x >> np.uint64(31)
    x *= third
    x ^= x >> np.uint64(29)
    return (x >> np.uint64(11)).astype(np.float64) / 2.0**53


def fixed_tower(towers: Towers, districts: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """The tower of each district at a fraction of its tower list (int32 tower indices)."""
    return towers.first[districts] + (fraction * towers.count[districts]).astype(np.int32)


def fixed_neighbour(geo: Geography, districts: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """The neighbouring district of each district at a fraction of its neighbour list."""
    start = geo.neighbour_start[districts]
    options = geo.neighbour_start[districts + 1] - start
    return geo.neighbour_list[start + (fraction * options).astype(np.int32)]


def random_neighbour(rng: np.random.Generator, geo: Geography, districts: np.ndarray) -> np.ndarray:
    return fixed_neighbour(geo, districts, rng.random(len(districts)))


def serving_towers(rng: np.random.Generator, keys: np.ndarray, districts: np.ndarray, towers: Towers,
                   geo: Geography) -> np.ndarray:
    """The tower serving each event of people with place `keys` in true `districts`."""
    usual = fixed_tower(towers, districts, place_fraction(keys, districts, USUAL_TOWER))
    cell = np.where(rng.random(len(keys)) < USUAL_TOWER_SHARE, usual, towers.pick(rng, districts))
    border = place_fraction(keys, districts, NEAR_BORDER) < BORDER_PLACE_SHARE
    across_district = fixed_neighbour(geo, districts, place_fraction(keys, districts, NEIGHBOUR))
    across = fixed_tower(towers, across_district, place_fraction(keys, districts, TOWER_ACROSS))
    cell = np.where(border & (rng.random(len(keys)) < ACROSS_BORDER_SHARE), across, cell)
    stray = np.flatnonzero(rng.random(len(keys)) < STRAY_SHARE)
    cell[stray] = towers.pick(rng, random_neighbour(rng, geo, districts[stray]))
    return cell
