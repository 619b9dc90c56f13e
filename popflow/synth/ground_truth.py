"""Ground truth to measure indicators against.

* `truth/presence.parquet`: for every hour slot of the period and every district,
  the true number of synthetic people (subscribers and roamers) in it: `time`
  (local hour start, timestamp with the scenario's time zone), `area_id`, `people`.
* `truth/homes.csv`: for every subscriber and every calendar month of the period in
  which they live in the region, the true home district and workplace (or school)
  district, empty when they have none: `subscriber_id, month, home_area_id,
  work_area_id`. The home of a month is the one on its first day in the period
  (or on arrival day, for migrants arriving later in the month).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from popflow import columns as col
from popflow.synth.clock import Day, Period
from popflow.synth.csv_files import write_csv
from popflow.synth.geography import Geography
from popflow.synth.residents import SUBSCRIBER_ID, Subscribers

PEOPLE = "people"
MONTH = "month"
TIME = "time"


class PresenceTally:
    """Accumulates true people per (slot, district) day by day."""

    def __init__(self, period: Period, districts: int):
        self._counts = np.zeros((period.slots, districts), dtype=np.int64)
        self._period = period

    def add(self, day: Day, where: np.ndarray) -> None:
        """Count the located people of a (slots, people) district matrix for `day`."""
        districts = self._counts.shape[1]
        for position in range(day.slots):
            row = where[position]
            counts = np.bincount(row[row >= 0], minlength=districts)
            self._counts[day.first_slot + position] += counts

    def table(self, geo: Geography) -> pa.Table:
        """One row per slot and district, zeros included."""
        slots, districts = self._counts.shape
        starts = np.repeat(self._period.hour_starts(), districts) * 1_000_000
        return pa.table({
            TIME: pa.array(starts, pa.timestamp("us", tz=self._period.timezone)),
            col.AREA_ID: pa.array(np.tile(np.array(geo.district_ids), slots)),
            PEOPLE: pa.array(self._counts.ravel(), pa.int64()),
        })

    def write(self, geo: Geography, path: Path) -> None:
        pq.write_table(self.table(geo), path)


def month_homes(subscribers: Subscribers, period: Period, month: str) -> tuple:
    """(living here, home district) of every subscriber in `month`."""
    day_numbers = [day.index for day in period.days if day.month == month]
    first, last = day_numbers[0], day_numbers[-1]
    here = subscribers.arrival_day <= last
    reference = np.maximum(subscribers.arrival_day, first)
    people = subscribers.profiles
    home = np.where(reference >= people.move_day, people.new_home, people.home)
    return here, home


def homes_table(subscribers: Subscribers, period: Period, geo: Geography) -> pa.Table:
    """The truth about homes and workplaces, month by month."""
    names = np.array(geo.district_ids + [""])
    work = subscribers.profiles.work
    parts = []
    for month in period.months:
        here, home = month_homes(subscribers, period, month)
        rows = np.flatnonzero(here)
        parts.append(pa.table({
            SUBSCRIBER_ID: subscribers.profiles.ids.take(pa.array(rows)),
            MONTH: pa.array(np.full(len(rows), month)),
            "home_area_id": pa.array(names[home[rows]]),
            "work_area_id": pa.array(names[work[rows]]),  # -1 picks the trailing ""
        }))
    return pa.concat_tables(parts)


def write_homes(subscribers: Subscribers, period: Period, geo: Geography, path: Path) -> None:
    write_csv(homes_table(subscribers, period, geo), path)
