"""The truth about trips: `truth/trips.csv`, counted from the true hourly whereabouts.

A trip is a change of a person's true district between two consecutive hour
slots in which they are in the region, dated by the local date of the slot of
arrival (a move between 23:00 and midnight belongs to the next day). One row
per date, origin and destination with at least one trip: `date, origin,
destination, trips, travellers` over everyone, and `subscriber_trips,
subscriber_travellers` over the people whose phone the operator serves.
Travellers are the people making at least one such trip that day.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from popflow import columns as col
from popflow.synth.clock import Day, Period
from popflow.synth.counting import distinct
from popflow.synth.csv_files import write_csv
from popflow.synth.geography import Geography

TRIP_COLUMNS = [col.DATE, "origin", "destination", "trips", "travellers", "subscriber_trips",
                "subscriber_travellers"]
EVERYONE, SUBSCRIBERS = 0, 1


class TripTally:
    """Accumulates trips and travellers per (day, origin, destination), day by day in order."""

    def __init__(self, period: Period, districts: int):
        shape = (len(period.days), 2, districts * districts)
        self._trips = np.zeros(shape, dtype=np.int64)
        self._travellers = np.zeros(shape, dtype=np.int64)
        self._districts = districts
        self._period = period
        self._last_slot: np.ndarray | None = None

    def add(self, day: Day, where: np.ndarray, on_network: np.ndarray) -> None:
        """Count the moves of a (slots, people) district matrix for `day`, from the previous day's last slot."""
        before = where[:1] if self._last_slot is None else self._last_slot[None, :]
        rows = np.concatenate([before, where])
        origin, destination = rows[:-1], rows[1:]
        slot, person = np.nonzero((origin != destination) & (origin >= 0) & (destination >= 0))
        pair = origin[slot, person].astype(np.int64) * self._districts + destination[slot, person]
        self._count(day.index, EVERYONE, person, pair)
        served = on_network[person]
        self._count(day.index, SUBSCRIBERS, person[served], pair[served])
        self._last_slot = where[-1].copy()

    def _count(self, day: int, group: int, person: np.ndarray, pair: np.ndarray) -> None:
        cells = self._districts * self._districts
        self._trips[day, group] += np.bincount(pair, minlength=cells)
        travelled = distinct(person.astype(np.int64) * cells + pair) % cells
        self._travellers[day, group] += np.bincount(travelled, minlength=cells)

    def table(self, geo: Geography) -> pa.Table:
        """One row per date, origin and destination with a trip."""
        day, pair = np.nonzero(self._trips[:, EVERYONE])
        dates = np.array([d.date.isoformat() for d in self._period.days])
        ids = np.array(geo.district_ids)
        return pa.Table.from_arrays([
            pa.array(dates[day]),
            pa.array(ids[pair // self._districts]),
            pa.array(ids[pair % self._districts]),
            *(pa.array(counts[day, group, pair]) for group in (EVERYONE, SUBSCRIBERS)
              for counts in (self._trips, self._travellers)),
        ], names=TRIP_COLUMNS)

    def write(self, geo: Geography, path: Path) -> None:
        write_csv(self.table(geo), path)
