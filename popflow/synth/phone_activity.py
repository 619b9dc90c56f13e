"""Phone activity: when people on the operator's network make network events.

Activity comes in sessions (a call, a chat, a spell of browsing), each a burst
of events minutes apart. Each person has a heavy-tailed (lognormal) rate of
sessions per day: median 4, a few very heavy users, at most 150; each day a
mood factor (gamma, mean 1) scales it. Sessions fall in the hours by a daily
rhythm that is quiet at night (under 3 % of them between 01:00 and 06:00), as
a Poisson count per person and hour. A session has 1 + geometric events (mean
2.2) separated by exponential gaps of mean 40 s, kept inside its hour. About a
third of subscribers make fewer than 5 events on an average day, and most hours
of most people are silent. Event types are mostly data sessions; which tower
serves each event is decided in `serving_cells`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from popflow.synth.geography import Geography
from popflow.synth.serving_cells import serving_towers
from popflow.synth.towers import Towers

SESSIONS_MEDIAN = 4.0  # sessions per day
SESSIONS_SPREAD = 1.1  # sigma of log(sessions per day)
SESSIONS_MAX = 150.0
MOOD_SHAPE = 2.0  # gamma shape of the day's mood factor (mean 1)
MEAN_SESSION_EVENTS = 2.2
MAX_SESSION_EVENTS = 30
MEAN_GAP_SECONDS = 40.0
MAX_SESSIONS_PER_HOUR = 255
EVENT_TYPES = ("data", "call", "sms", "other")
EVENT_TYPE_SHARES = np.array([0.62, 0.16, 0.12, 0.10])
# Activity by local hour of day, relative to the peak.
HOURLY_RHYTHM = np.array([
    0.30, 0.15, 0.08, 0.05, 0.05, 0.08, 0.25, 0.55, 0.80, 0.90, 0.90, 0.95,
    1.00, 0.90, 0.85, 0.85, 0.85, 0.90, 0.95, 1.00, 1.00, 0.95, 0.75, 0.50,
], dtype=np.float32)
HOURLY_SHARE = HOURLY_RHYTHM / HOURLY_RHYTHM.sum()  # share of a day's sessions in each local hour


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
    """Sessions per day of each person (lognormal, capped)."""
    rates = rng.lognormal(np.log(SESSIONS_MEDIAN), SESSIONS_SPREAD, size=count)
    return np.minimum(rates, SESSIONS_MAX).astype(np.float32)


def draw_sessions(
    rng: np.random.Generator, rates: np.ndarray, local_hours: np.ndarray, active: np.ndarray
) -> np.ndarray:
    """Sessions per slot and person, (slots, people) uint8; zero where not `active`."""
    mood = rng.gamma(MOOD_SHAPE, 1.0 / MOOD_SHAPE, size=len(rates)).astype(np.float32)
    expected = HOURLY_SHARE[local_hours][:, None] * (rates * mood)[None, :]
    expected[~active] = 0.0
    return np.minimum(rng.poisson(expected), MAX_SESSIONS_PER_HOUR).astype(np.uint8)


def session_seconds(rng: np.random.Generator, sessions: int) -> tuple[np.ndarray, np.ndarray]:
    """Session of each event (its index) and the event's second within its hour."""
    size = np.minimum(rng.geometric(1.0 / MEAN_SESSION_EVENTS, sessions), MAX_SESSION_EVENTS)
    session = np.repeat(np.arange(sessions), size)
    gaps = rng.exponential(MEAN_GAP_SECONDS, len(session))
    first = np.cumsum(size) - size  # each session's first event
    gaps[first] = 0.0
    elapsed = np.cumsum(gaps)
    offset = elapsed - elapsed[first][session]
    start = rng.integers(0, 3600, sessions)
    return session, np.minimum(start[session] + offset.astype(np.int64), 3599).astype(np.int32)


def expand_events(
    rng: np.random.Generator, sessions: np.ndarray, locations: np.ndarray, slots: range,
    place_keys: np.ndarray, towers: Towers, geo: Geography,
) -> EventBatch:
    """Individual events for `slots` of a day from per-slot session counts and true districts."""
    flat = sessions[slots.start:slots.stop].ravel()
    where = np.flatnonzero(flat)
    session_at = np.repeat(where, flat[where])
    session, second = session_seconds(rng, len(session_at))
    cells_at = session_at[session]
    people = sessions.shape[1]
    slot = (cells_at // people).astype(np.int32) + slots.start
    order = np.argsort(slot * 3600 + second, kind="stable")
    cells_at, slot, second = cells_at[order], slot[order], second[order]
    district = locations[slots.start:slots.stop].ravel()[cells_at]
    person = (cells_at % people).astype(np.int32)
    kind = np.searchsorted(np.cumsum(EVENT_TYPE_SHARES)[:-1], rng.random(len(cells_at)), "right")
    return EventBatch(
        person=person,
        slot=slot,
        second=second,
        cell=serving_towers(rng, place_keys[person], district, towers, geo),
        event_type=kind.astype(np.int8),
    )
