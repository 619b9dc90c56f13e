"""The truth about tourism: `truth/tourism.csv`, counted from the true whereabouts.

One row per local date, district and visitor type, zeros included:
`date, area_id, visitor_type, visitors, nights`. A person's night location for
the night starting on date d is the district they truly are in at 23:00 on d;
the usual environment of a resident is their true home of that day and their
work (or school) district; visitors from other provinces have none in the region.

* `domestic_overnight`: people with a home network in the country (residents and
  visitors from other provinces) whose night starting on `date` is spent in
  `area_id`, outside their usual environment; `nights` equals `visitors`.
* `domestic_sameday`: such people who spend at least 3 hour slots of `date` in
  `area_id`, outside their usual environment, and do not spend the night starting
  on `date` there; `nights` is 0.
* `international`: roamers in `area_id` in at least one hour slot of `date`;
  `nights` counts the roamers whose night starting on `date` is spent there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from popflow import columns as col
from popflow.synth.clock import Day, Period
from popflow.synth.csv_files import write_csv
from popflow.synth.geography import Geography
from popflow.synth.profiles import RESIDENT, ROAMER, Profiles

VISITOR_TYPES = ("domestic_overnight", "domestic_sameday", "international")
NIGHT_HOUR = 23
MIN_VISIT_HOURS = 3
TOURISM_COLUMNS = [col.DATE, col.AREA_ID, "visitor_type", "visitors", "nights"]


class TourismTally:
    """Accumulates visitors and nights per (day, visitor type, district), chunk by chunk."""

    def __init__(self, period: Period, districts: int):
        self._period = period
        self._districts = districts
        self._visitors = np.zeros((len(period.days), len(VISITOR_TYPES), districts), dtype=np.int64)
        self._nights = np.zeros_like(self._visitors)

    def add(self, day: Day, where: np.ndarray, people: Profiles) -> None:
        """Count one chunk of people given their (slots, people) districts on `day`."""
        night_row = int(day.slot_at(np.array([NIGHT_HOUR]))[0] - day.first_slot)
        night = where[night_row]
        home = np.where(day.index >= people.move_day, people.new_home, people.home)
        resident = people.kind == RESIDENT
        usual = resident[None, :] & ((where == home) | (where == people.work))
        domestic = people.kind != ROAMER
        self._add_overnight(day.index, night, domestic & ~usual[night_row])
        self._add_sameday(day.index, where, night, domestic[None, :] & ~usual)
        roamers = np.flatnonzero(people.kind == ROAMER)
        if len(roamers):
            self._add_international(day.index, where[:, roamers], night[roamers])

    def _count(self, districts: np.ndarray) -> np.ndarray:
        return np.bincount(districts[districts >= 0], minlength=self._districts)

    def _add_overnight(self, day: int, night: np.ndarray, away: np.ndarray) -> None:
        counts = self._count(night[away])
        self._visitors[day, 0] += counts
        self._nights[day, 0] += counts

    def _add_sameday(self, day: int, where: np.ndarray, night: np.ndarray, away: np.ndarray) -> None:
        visiting = away & (where >= 0) & (where != night[None, :])
        _, person = np.nonzero(visiting)
        people = where.shape[1]
        hours = np.bincount(person * self._districts + where[visiting], minlength=people * self._districts)
        self._visitors[day, 1] += (hours.reshape(people, self._districts) >= MIN_VISIT_HOURS).sum(axis=0)

    def _add_international(self, day: int, where: np.ndarray, night: np.ndarray) -> None:
        seen = np.zeros((where.shape[1], self._districts), dtype=bool)
        slot, person = np.nonzero(where >= 0)
        seen[person, where[slot, person]] = True
        self._visitors[day, 2] += seen.sum(axis=0)
        self._nights[day, 2] += self._count(night)

    def table(self, geo: Geography) -> pa.Table:
        """One row per date, district and visitor type."""
        days, types, districts = self._visitors.shape
        dates = np.array([day.date.isoformat() for day in self._period.days])
        moved = np.moveaxis  # (days, types, districts) -> (days, districts, types)
        return pa.Table.from_arrays([
            pa.array(np.repeat(dates, districts * types)),
            pa.array(np.tile(np.repeat(np.array(geo.district_ids), types), days)),
            pa.array(np.tile(np.array(VISITOR_TYPES), days * districts)),
            pa.array(moved(self._visitors, 1, 2).ravel()),
            pa.array(moved(self._nights, 1, 2).ravel()),
        ], names=TOURISM_COLUMNS)

    def write(self, geo: Geography, path: Path) -> None:
        write_csv(self.table(geo), path)
