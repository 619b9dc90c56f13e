"""The truth about tourism: `truth/tourism.csv`, counted from the true whereabouts.

One row per local date, district and visitor type, zeros included:
`date, area_id, visitor_type, visitors, nights` over everyone, and
`subscriber_visitors, subscriber_nights` over the people whose phone the
operator serves (its subscribers and the roamers on its network). A person's night location for
the night starting on date d is the district they truly are in at 23:00 on d;
the usual environment of a resident is their true home of that day and their
work (or school) district; visitors from other provinces have none in the region.

* `domestic_overnight`: people with a home network in the country (residents and
  visitors from other provinces) whose night starting on `date` is spent in
  `area_id`, outside their usual environment; `nights` equals `visitors`.
* `domestic_sameday`: such people who spend at least 3 hour slots of `date` in
  `area_id`, outside their usual environment, and do not spend the night starting
  on `date` there; `nights` is 0.
* `international`: international visitors in `area_id` in at least one hour
  slot of `date`; `nights` counts those whose night starting on `date` is spent there.
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
TOURISM_COLUMNS = [col.DATE, col.AREA_ID, "visitor_type", "visitors", "nights", "subscriber_visitors",
                   "subscriber_nights"]


class TourismTally:
    """Accumulates visitors and nights per (day, group, visitor type, district), chunk by chunk.

    Group 0 is everyone, group 1 the people on the operator's network.
    """

    def __init__(self, period: Period, districts: int):
        self._period = period
        self._districts = districts
        self._visitors = np.zeros((len(period.days), 2, len(VISITOR_TYPES), districts), dtype=np.int64)
        self._nights = np.zeros_like(self._visitors)

    def add(self, day: Day, where: np.ndarray, people: Profiles) -> None:
        """Count one chunk of people given their (slots, people) districts on `day`."""
        self._add_group(day, 0, where, people)
        served = people.on_network
        self._add_group(day, 1, where[:, served], people.select(served))

    def _add_group(self, day: Day, group: int, where: np.ndarray, people: Profiles) -> None:
        night_row = int(day.slot_at(np.array([NIGHT_HOUR]))[0] - day.first_slot)
        night = where[night_row]
        home = np.where(day.index >= people.move_day, people.new_home, people.home)
        resident = people.kind == RESIDENT
        usual = resident[None, :] & ((where == home) | (where == people.work))
        domestic = people.kind != ROAMER
        counts = (self._visitors[day.index, group], self._nights[day.index, group])
        self._add_overnight(counts, night, domestic & ~usual[night_row])
        self._add_sameday(counts, where, night, domestic[None, :] & ~usual)
        roamers = np.flatnonzero(people.kind == ROAMER)
        if len(roamers):
            self._add_international(counts, where[:, roamers], night[roamers])

    def _count(self, districts: np.ndarray) -> np.ndarray:
        return np.bincount(districts[districts >= 0], minlength=self._districts)

    def _add_overnight(self, counts: tuple, night: np.ndarray, away: np.ndarray) -> None:
        visitors, nights = counts
        found = self._count(night[away])
        visitors[0] += found
        nights[0] += found

    def _add_sameday(self, counts: tuple, where: np.ndarray, night: np.ndarray, away: np.ndarray) -> None:
        visiting = away & (where >= 0) & (where != night[None, :])
        _, person = np.nonzero(visiting)
        people = where.shape[1]
        hours = np.bincount(person * self._districts + where[visiting], minlength=people * self._districts)
        counts[0][1] += (hours.reshape(people, self._districts) >= MIN_VISIT_HOURS).sum(axis=0)

    def _add_international(self, counts: tuple, where: np.ndarray, night: np.ndarray) -> None:
        visitors, nights = counts
        seen = np.zeros((where.shape[1], self._districts), dtype=bool)
        slot, person = np.nonzero(where >= 0)
        seen[person, where[slot, person]] = True
        visitors[2] += seen.sum(axis=0)
        nights[2] += self._count(night)

    def table(self, geo: Geography) -> pa.Table:
        """One row per date, district and visitor type."""
        days, _, types, districts = self._visitors.shape
        dates = np.array([day.date.isoformat() for day in self._period.days])

        def column(counts: np.ndarray, group: int) -> pa.Array:  # (days, types, districts) -> by district, type
            return pa.array(np.moveaxis(counts[:, group], 1, 2).ravel())

        return pa.Table.from_arrays([
            pa.array(np.repeat(dates, districts * types)),
            pa.array(np.tile(np.repeat(np.array(geo.district_ids), types), days)),
            pa.array(np.tile(np.array(VISITOR_TYPES), days * districts)),
            *(column(counts, group) for group in (0, 1) for counts in (self._visitors, self._nights)),
        ], names=TOURISM_COLUMNS)

    def write(self, geo: Geography, path: Path) -> None:
        write_csv(self.table(geo), path)
