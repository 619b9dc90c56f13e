"""Ground truth to measure indicators against: presence, homes and residents.

* `truth/presence.parquet`: for every hour slot of the period and every district,
  the true number of people in it - residents and visitors, whatever their
  network: `time` (local hour start, timestamp with the scenario's time zone),
  `area_id`, `people`, and `subscribers`, those of them whose phone the operator
  serves (its subscribers and the roamers on its network), and
  `weighted_subscribers`, the sum of those people's census weights: a resident
  subscriber stands for the census population of their first home district ÷
  the subscribers living there, anyone else on the network for the region's
  population ÷ its subscribing residents. It is what an estimate would give if
  it placed every phone right and knew every subscriber's true home - the floor
  of the sampling error of estimates calibrated by home district.
* `truth/homes.csv`: for every subscriber and every calendar month of the period in
  which they live in the region, the true home district and workplace (or school)
  district, empty when they have none: `subscriber_id, month, home_area_id,
  work_area_id`. The home of a month is the one on its first day in the period
  (or on arrival day, for migrants arriving later in the month).
* `truth/residents.csv`: for every calendar month and district, the residents
  whose home of the month (as above) is there, subscribers or not: `month,
  area_id, people, adults` (aged 18 or more in the period's start year) and
  `subscribers` (residents who are the operator's subscribers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from popflow import columns as col
from popflow.synth.census import is_adult
from popflow.synth.clock import Day, Period
from popflow.synth.csv_files import write_csv
from popflow.synth.geography import Geography
from popflow.synth.residents import SUBSCRIBER_ID, Residents

PEOPLE = "people"
SUBSCRIBERS = "subscribers"
WEIGHTED = "weighted_subscribers"
MONTH = "month"
TIME = "time"


def census_weights(residents: Residents, on_network: np.ndarray, districts: int) -> np.ndarray:
    """Each person's census weight (see `weighted_subscribers`), 0 off the operator's network.

    `on_network` covers everyone, residents first in the order of `residents`.
    """
    home, subscribing = residents.profiles.home, residents.subscriber
    population = np.bincount(home, minlength=districts)
    subscribers = np.bincount(home[subscribing], minlength=districts)
    weights = np.where(on_network, population.sum() / max(subscribers.sum(), 1), 0.0)
    weights[:len(residents)] = np.where(subscribing, population[home] / np.maximum(subscribers[home], 1), 0.0)
    return weights


class PresenceTally:
    """Accumulates true people, those on the operator's network and their census weights per (slot, district)."""

    def __init__(self, period: Period, districts: int, weights: np.ndarray):
        self._people = np.zeros((period.slots, districts), dtype=np.int64)
        self._subscribers = np.zeros_like(self._people)
        self._weighted = np.zeros((period.slots, districts), dtype=np.float64)
        self._weights = weights
        self._on_network = weights > 0
        self._period = period

    def add(self, day: Day, where: np.ndarray) -> None:
        """Count the located people of a (slots, people) district matrix for `day`."""
        districts = self._people.shape[1]
        for position in range(day.slots):
            row = where[position]
            slot = day.first_slot + position
            located = row >= 0
            self._people[slot] += np.bincount(row[located], minlength=districts)
            served = located & self._on_network
            self._subscribers[slot] += np.bincount(row[served], minlength=districts)
            self._weighted[slot] += np.bincount(row[served], self._weights[served], minlength=districts)

    def table(self, geo: Geography) -> pa.Table:
        """One row per slot and district, zeros included."""
        slots, districts = self._people.shape
        starts = np.repeat(self._period.hour_starts(), districts) * 1_000_000
        return pa.table({
            TIME: pa.array(starts, pa.timestamp("us", tz=self._period.timezone)),
            col.AREA_ID: pa.array(np.tile(np.array(geo.district_ids), slots)),
            PEOPLE: pa.array(self._people.ravel(), pa.int64()),
            SUBSCRIBERS: pa.array(self._subscribers.ravel(), pa.int64()),
            WEIGHTED: pa.array(np.round(self._weighted.ravel(), 3), pa.float64()),
        })

    def write(self, geo: Geography, path: Path) -> None:
        pq.write_table(self.table(geo), path)


def month_homes(residents: Residents, period: Period, month: str) -> tuple:
    """(living here, home district) of every resident in `month`."""
    day_numbers = [day.index for day in period.days if day.month == month]
    first, last = day_numbers[0], day_numbers[-1]
    here = residents.arrival_day <= last
    reference = np.maximum(residents.arrival_day, first)
    people = residents.profiles
    home = np.where(reference >= people.move_day, people.new_home, people.home)
    return here, home


def homes_table(residents: Residents, period: Period, geo: Geography) -> pa.Table:
    """The truth about subscribers' homes and workplaces, month by month."""
    names = np.array(geo.district_ids + [""])
    work = residents.profiles.work
    parts = []
    for month in period.months:
        here, home = month_homes(residents, period, month)
        rows = np.flatnonzero(here & residents.subscriber)
        parts.append(pa.table({
            SUBSCRIBER_ID: residents.profiles.ids.take(pa.array(rows)),
            MONTH: pa.array(np.full(len(rows), month)),
            "home_area_id": pa.array(names[home[rows]]),
            "work_area_id": pa.array(names[work[rows]]),  # -1 picks the trailing ""
        }))
    return pa.concat_tables(parts)


def write_homes(residents: Residents, period: Period, geo: Geography, path: Path) -> None:
    write_csv(homes_table(residents, period, geo), path)


def residents_table(residents: Residents, period: Period, geo: Geography) -> pa.Table:
    """Residents, adult residents and subscribing residents per month and district, zeros included."""
    adult, parts = is_adult(residents, period), []
    for month in period.months:
        here, home = month_homes(residents, period, month)
        parts.append(pa.table({
            MONTH: pa.array(np.full(geo.districts, month)),
            col.AREA_ID: pa.array(geo.district_ids),
            PEOPLE: pa.array(np.bincount(home[here], minlength=geo.districts)),
            col.ADULTS: pa.array(np.bincount(home[here & adult], minlength=geo.districts)),
            SUBSCRIBERS: pa.array(np.bincount(home[here & residents.subscriber], minlength=geo.districts)),
        }))
    return pa.concat_tables(parts)


def write_residents(residents: Residents, period: Period, geo: Geography, path: Path) -> None:
    write_csv(residents_table(residents, period, geo), path)
