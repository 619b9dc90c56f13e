"""Per-person traits that drive hourly whereabouts and phone use.

A profile row exists for everyone in the region during the period: residents
(migrant workers among them) and visitors alike, whether or not their phone uses
the operator's network. Each source of people (residents, domestic visitors from
other provinces, international roamers) builds its own profiles, marked with its
kind, and the daily simulation treats them all the same way; only people on the
operator's network make network events.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

NO_DISTRICT = -1
# Kinds of people: residents have a usual environment (home, work) in the region;
# visitors from other provinces and international roamers only stay a few days.
RESIDENT, DOMESTIC_VISITOR, ROAMER = 0, 1, 2


@dataclass(frozen=True)
class Profiles:
    """Column-wise traits, one element per person."""

    ids: pa.Array  # raw phone number (string)
    on_network: np.ndarray  # bool: the operator serves the phone (its subscriber, or a roamer on its network)
    place_key: np.ndarray  # uint32 key choosing the person's usual serving towers (see serving_cells)
    kind: np.ndarray  # int8 RESIDENT, DOMESTIC_VISITOR or ROAMER
    mcc: pa.Array  # home-network mobile country code (string)
    home: np.ndarray  # int16 district where the person sleeps (first home, or a visitor's hotel)
    new_home: np.ndarray  # int16 district slept in from `move_day` on (= home if no move)
    move_day: np.ndarray  # int16 day index of the move (number of days: never)
    work: np.ndarray  # int16 workplace or school district, NO_DISTRICT if none
    leave_hour: np.ndarray  # float32 usual local hour of leaving for work
    work_hours: np.ndarray  # float32 usual hours spent at work
    works_saturday: np.ndarray  # bool: shop and service workers also work on Saturdays
    sightseer: np.ndarray  # bool: a visitor touring central districts by day
    arrive_slot: np.ndarray  # int32 first period slot in the region
    depart_slot: np.ndarray  # int32 first period slot no longer in the region
    rate: np.ndarray  # float32 phone sessions per day on an average day (see phone_activity)

    def __len__(self) -> int:
        return len(self.home)

    def rows(self, start: int, stop: int) -> Profiles:
        """The profiles of persons start..stop-1."""
        return dataclasses.replace(
            self, **{f.name: getattr(self, f.name)[start:stop] for f in dataclasses.fields(self)}
        )

    def select(self, mask: np.ndarray) -> Profiles:
        """The profiles of the persons where `mask` is true."""
        rows = np.flatnonzero(mask)
        taken = pa.array(rows)
        picked = {}
        for field in dataclasses.fields(self):
            values = getattr(self, field.name)
            picked[field.name] = values.take(taken) if isinstance(values, pa.Array) else values[rows]
        return Profiles(**picked)


def concat_profiles(parts: list[Profiles]) -> Profiles:
    """All persons of `parts`, in order."""
    merged = {}
    for field in dataclasses.fields(Profiles):
        values = [getattr(part, field.name) for part in parts]
        if isinstance(values[0], pa.Array):
            merged[field.name] = pa.concat_arrays(values)
        else:
            merged[field.name] = np.concatenate(values)
    return Profiles(**merged)


def draw_place_keys(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.integers(0, 2**32, count, dtype=np.uint32)


def visitor_profiles(ids: pa.Array, kind: int, mcc: pa.Array, on_network: np.ndarray, place_key: np.ndarray,
                     hotel: np.ndarray, arrive: np.ndarray, depart: np.ndarray, days: int,
                     rates: np.ndarray) -> Profiles:
    """Profiles of people staying at a hotel district between two slots: no home here, no work, sightseeing."""
    count = len(hotel)
    return Profiles(
        ids=ids, on_network=on_network, place_key=place_key, kind=np.full(count, kind, dtype=np.int8), mcc=mcc,
        home=hotel, new_home=hotel.copy(),
        move_day=np.full(count, days, dtype=np.int16),
        work=np.full(count, NO_DISTRICT, dtype=np.int16),
        leave_hour=np.zeros(count, dtype=np.float32),
        work_hours=np.zeros(count, dtype=np.float32),
        works_saturday=np.zeros(count, dtype=bool),
        sightseer=np.ones(count, dtype=bool),
        arrive_slot=arrive, depart_slot=depart,
        rate=rates,
    )
