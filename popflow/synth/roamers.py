"""International visitors: foreign phones visiting the region for a few days.

As many as 3 % of the residents visit during the period. Each has a foreign number and its
network's mobile country code (USA 310, Japan 440, Germany 262, UK 234, Korea 450),
arrives on a random day of the period between 10:00 and 21:00, stays 2-6 nights
at a hotel - in a scenic district for about two thirds of them, else in a central
district - tours scenic and central districts by day, and leaves between 08:00 and
16:00 (or stays past the end of the period). With the operator's national share
their phones roam on its network (roamers): these appear in the events, never in
`subscribers.csv`; the others are only in the truth.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from popflow.synth.clock import Period
from popflow.synth.geography import Geography
from popflow.synth.market_share import draw_on_network
from popflow.synth.phone_activity import draw_rates
from popflow.synth.profiles import ROAMER, Profiles, draw_place_keys, visitor_profiles

ROAMER_SHARE = 0.03
# Home network: mobile country code, number prefix, digits after it, share of roamers.
HOME_NETWORKS = (
    ("310", "+1", 10, 0.3),
    ("440", "+8190", 8, 0.25),
    ("262", "+49151", 8, 0.15),
    ("234", "+447", 9, 0.15),
    ("450", "+8210", 8, 0.15),
)
HOTEL_ATTRACTION_POWER = 1.5
SCENIC_HOTEL_SHARE = 0.65


def foreign_numbers(rng: np.random.Generator, networks: np.ndarray) -> list[str]:
    """A unique number per roamer, in the numbering plan of its home network."""
    numbers = [""] * len(networks)
    for index, (_, prefix, digits, _) in enumerate(HOME_NETWORKS):
        rows = np.flatnonzero(networks == index)
        lowest = 2 * 10 ** (digits - 1)
        drawn = rng.choice(10**digits - lowest, size=len(rows), replace=False) + lowest
        for row, number in zip(rows.tolist(), drawn.tolist(), strict=True):
            numbers[row] = f"{prefix}{number}"
    return numbers


def draw_stays(rng: np.random.Generator, count: int, period: Period) -> tuple:
    """First slot in and first slot out of the region for each roamer."""
    days = len(period.days)
    arrival_day = rng.integers(0, days, count)
    departure_day = arrival_day + rng.integers(2, 7, count)
    arrival_hour = rng.integers(10, 21, count)
    departure_hour = rng.integers(8, 16, count)
    return period.stay_slots(arrival_day, arrival_hour, departure_day, departure_hour)


def draw_hotels(rng: np.random.Generator, count: int, geo: Geography, scenic: np.ndarray) -> np.ndarray:
    """Hotel district of each roamer: a scenic one, or else one weighted toward the centres."""
    attraction = geo.density**HOTEL_ATTRACTION_POWER
    central = rng.choice(geo.districts, size=count, p=attraction / attraction.sum())
    in_scenic = scenic[rng.integers(0, len(scenic), count)]
    return np.where(rng.random(count) < SCENIC_HOTEL_SHARE, in_scenic, central).astype(np.int16)


def build_roamers(
    rng: np.random.Generator, residents: int, period: Period, geo: Geography, scenic: np.ndarray
) -> Profiles:
    """Draw the international visitors of the period."""
    count = round(residents * ROAMER_SHARE)
    shares = np.array([network[3] for network in HOME_NETWORKS])
    networks = rng.choice(len(HOME_NETWORKS), size=count, p=shares)
    hotel = draw_hotels(rng, count, geo, scenic)
    arrive, depart = draw_stays(rng, count, period)
    codes = np.array([network[0] for network in HOME_NETWORKS])
    return visitor_profiles(pa.array(foreign_numbers(rng, networks), type=pa.string()), ROAMER,
                            pa.array(codes[networks], type=pa.string()), draw_on_network(rng, count),
                            draw_place_keys(rng, count), hotel, arrive, depart, len(period.days),
                            draw_rates(rng, count))
