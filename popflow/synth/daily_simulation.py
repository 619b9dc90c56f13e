"""The day-by-day simulation: whereabouts, phone events, true presence, trips and tourism.

For each local day, everyone in the region is processed in chunks: their hourly
districts and, for people on the operator's network, hourly session counts are
drawn into two (slots, people) matrices (int16 and uint8, so a million people
take about 75 MB per day), and the chunk's tourists are counted from its
districts. True presence and trips are counted from the day's districts. Events
are then expanded slot by slot in batches of about a million, written in time
order to the day's file on a background thread while the next batch is drawn. Random streams are keyed by day,
chunk and batch, so output depends only on the seed and the scenario size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from popflow.synth.clock import Day, Period
from popflow.synth.event_files import EventFile, EventLabels, event_file_name, open_event_file
from popflow.synth.excursions import Excursions
from popflow.synth.geography import Geography
from popflow.synth.gravity import TripChoices
from popflow.synth.ground_truth import PresenceTally
from popflow.synth.phone_activity import MEAN_SESSION_EVENTS, draw_sessions, expand_events
from popflow.synth.profiles import NO_DISTRICT, Profiles
from popflow.synth.random_streams import stream
from popflow.synth.tourism_truth import TourismTally
from popflow.synth.towers import Towers
from popflow.synth.trip_truth import TripTally
from popflow.synth.whereabouts import locate_day

CHUNK_PEOPLE = 65_536
EVENTS_PER_BATCH = 1_000_000
PENDING_WRITES = 2


@dataclass(frozen=True)
class World:
    """Everything fixed for the whole period."""

    period: Period
    geo: Geography
    towers: Towers
    choices: TripChoices
    people: Profiles
    excursions: Excursions  # residents' trips to scenic districts, numbered like `people`
    census_weights: np.ndarray  # float64 per person, see ground_truth.census_weights


@dataclass(frozen=True)
class Simulation:
    """What the simulation of the period produced."""

    events: int
    presence: PresenceTally
    trips: TripTally
    tourism: TourismTally
    files: list[Path]


@dataclass
class DayState:
    """Hourly districts and session counts of one day, (slots, people) each."""

    where: np.ndarray
    sessions: np.ndarray


class BackgroundWriter:
    """Runs file writes in order on one thread, at most a few behind the producer."""

    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="popflow-synth-io")
        self._pending: deque[Future] = deque()

    def submit(self, action: Callable, *arguments) -> None:
        self._pending.append(self._pool.submit(action, *arguments))
        while len(self._pending) > PENDING_WRITES:
            self._pending.popleft().result()

    def finish(self) -> None:
        while self._pending:
            self._pending.popleft().result()
        self._pool.shutdown()


def simulate_day(
    seed: int, world: World, day: Day, away_last_night: np.ndarray, tourism: TourismTally
) -> DayState:
    """Draw the day's whereabouts and session counts; update who sleeps away tonight; count tourists."""
    count = len(world.people)
    state = DayState(
        where=np.empty((day.slots, count), dtype=np.int16),
        sessions=np.empty((day.slots, count), dtype=np.uint8),
    )
    for chunk, begin in enumerate(range(0, count, CHUNK_PEOPLE)):
        end = min(begin + CHUNK_PEOPLE, count)
        people = world.people.rows(begin, end)
        where, away = locate_day(
            stream(seed, "whereabouts", day.index, chunk), people, day, world.choices,
            away_last_night[begin:end], world.excursions.on_day(day.index, begin, end),
        )
        tourism.add(day, where, people)
        state.where[:, begin:end] = where
        state.sessions[:, begin:end] = draw_sessions(
            stream(seed, "activity", day.index, chunk), people.rate, day.local_hours,
            (where >= 0) & people.on_network[None, :],
        )
        away_last_night[begin:end] = away
    return state


def slot_batches(sessions: np.ndarray) -> list[range]:
    """Consecutive slot ranges holding about EVENTS_PER_BATCH events each."""
    per_slot = sessions.sum(axis=1, dtype=np.int64) * MEAN_SESSION_EVENTS
    batches, first, total = [], 0, 0
    for slot, events in enumerate(per_slot.tolist()):
        total += events
        if total >= EVENTS_PER_BATCH or slot == len(per_slot) - 1:
            batches.append(range(first, slot + 1))
            first, total = slot + 1, 0
    return batches


def write_day_events(
    seed: int, world: World, day: Day, state: DayState, file: EventFile,
    writer: BackgroundWriter,
) -> int:
    """Expand and queue the day's events for writing; return how many there are."""
    written = 0
    for number, slots in enumerate(slot_batches(state.sessions)):
        rng = stream(seed, "events", day.index, number)
        batch = expand_events(rng, state.sessions, state.where, slots, world.people.place_key, world.towers,
                              world.geo)
        writer.submit(file.write, batch)
        written += len(batch)
    writer.submit(file.close)
    return written


def simulate_period(
    seed: int, world: World, folder: Path, events_format: str, labels: EventLabels,
    progress: Callable[[str, float], None],
) -> Simulation:
    """Simulate every day; write event files; return event count, true presence, trips and tourism, files."""
    tally = PresenceTally(world.period, world.geo.districts, world.census_weights)
    trips = TripTally(world.period, world.geo.districts)
    tourism = TourismTally(world.period, world.geo.districts)
    away_last_night = np.full(len(world.people), NO_DISTRICT, dtype=np.int16)
    writer, events, files = BackgroundWriter(), 0, []
    try:
        for day in world.period.days:
            state = simulate_day(seed, world, day, away_last_night, tourism)
            tally.add(day, state.where)
            trips.add(day, state.where, world.people.on_network)
            file = open_event_file(folder, day, labels, events_format)
            files.append(folder / event_file_name(day, events_format))
            events += write_day_events(seed, world, day, state, file, writer)
            progress("events", (day.index + 1) / len(world.period.days))
    finally:
        writer.finish()
    return Simulation(events, tally, trips, tourism, files)
