"""Phone activity: how many network events each person makes, when and where.

Each person has a heavy-tailed (lognormal) event rate: events per hour of phone
use at the daily peak, median one, with a few very heavy users. 40 % of
person-hours are idle (phone unused), so many people stay silent for hours; in
the others the count is Poisson with mean rate x daily rhythm (quiet from 1 to
6 am) x a per-person-day mood factor. On average a person makes about 15 events
a day. Each event falls at a uniform second of its hour, at a random tower of
the district the person is in, or with 5 % probability at a tower of a
neighbouring district (a stronger signal across the border). Event types are
mostly data sessions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from popflow.synth.geography import Geography
from popflow.synth.towers import Towers

RATE_MEDIAN = 1.0
RATE_SPREAD = 1.0  # sigma of log(rate)
RATE_MAX = 40.0
IDLE_SHARE = 0.4
NEIGHBOUR_SIGNAL = 0.15
MAX_EVENTS_PER_HOUR = 255
EVENT_TYPES = ("data", "call", "sms", "other")
EVENT_TYPE_SHARES = np.array([0.62, 0.16, 0.12, 0.10])
# Activity by local hour of day, relative to the peak.
HOURLY_RHYTHM = np.array([
    0.30, 0.15, 0.08, 0.05, 0.05, 0.08, 0.25, 0.55, 0.80, 0.90, 0.90, 0.95,
    1.00, 0.90, 0.85, 0.85, 0.85, 0.90, 0.95, 1.00, 1.00, 0.95, 0.75, 0.50,
], dtype=np.float32)


@dataclass(frozen=True)
class EventBatch:
    """Events of one stretch of a day, ordered by time."""

    person: np.ndarray  # int32 row in the profiles
    slot: np.ndarray  # int32 slot within the day
    second: np.ndarray  # int32 second within the hour, 0-3599
    cell: np.ndarray  # int32 tower index
    event_type: np.ndarray  # int8 index into EVENT_TYPES

    def __len__(self) -> int:
        return len(self.person)


def draw_rates(rng: np.random.Generator, count: int) -> np.ndarray:
    """Peak-hour event rates per person (lognormal, capped)."""
    rates = rng.lognormal(np.log(RATE_MEDIAN), RATE_SPREAD, size=count)
    return np.minimum(rates, RATE_MAX).astype(np.float32)


def draw_counts(
    rng: np.random.Generator, rates: np.ndarray, local_hours: np.ndarray, located: np.ndarray
) -> np.ndarray:
    """Events per slot and person, (slots, people) uint8; zero where not located."""
    mood = rng.gamma(4.0, 0.25, size=len(rates)).astype(np.float32)
    busy = HOURLY_RHYTHM[local_hours][:, None] * (rates * mood)[None, :]
    busy[~located | (rng.random(located.shape, dtype=np.float32) < IDLE_SHARE)] = 0.0
    counts = rng.poisson(busy)
    return np.minimum(counts, MAX_EVENTS_PER_HOUR).astype(np.uint8)


def observed_districts(rng: np.random.Generator, districts: np.ndarray, geo: Geography) -> np.ndarray:
    """The district whose tower handles each event: usually the true one, else a neighbour."""
    noisy = np.flatnonzero(rng.random(len(districts)) < NEIGHBOUR_SIGNAL)
    start = geo.neighbour_start[districts[noisy]]
    options = geo.neighbour_start[districts[noisy] + 1] - start
    pick = (rng.random(len(noisy)) * options).astype(np.int32)
    observed = districts.copy()
    observed[noisy] = geo.neighbour_list[start + pick]
    return observed


def expand_events(
    rng: np.random.Generator, counts: np.ndarray, locations: np.ndarray,
    slots: range, towers: Towers, geo: Geography,
) -> EventBatch:
    """Individual events for `slots` of a day from per-slot counts and true districts."""
    flat = counts[slots.start:slots.stop].ravel()
    where = np.flatnonzero(flat)
    repeats = flat[where]
    cells_at = np.repeat(where, repeats)
    people = counts.shape[1]
    second = rng.integers(0, 3600, size=len(cells_at), dtype=np.int32)
    slot = (cells_at // people).astype(np.int32) + slots.start
    order = np.argsort(slot * 3600 + second, kind="stable")
    cells_at, slot, second = cells_at[order], slot[order], second[order]
    district = locations[slots.start:slots.stop].ravel()[cells_at]
    kind = np.searchsorted(np.cumsum(EVENT_TYPE_SHARES)[:-1], rng.random(len(cells_at)), "right")
    return EventBatch(
        person=(cells_at % people).astype(np.int32),
        slot=slot,
        second=second,
        cell=towers.pick(rng, observed_districts(rng, district, geo)),
        event_type=kind.astype(np.int8),
    )
