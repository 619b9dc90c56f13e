"""The region's residents: who they are, where they live and where they work.

Generated for each resident: a unique Chinese mobile number, gender (F, M or,
rarely, other), birth year (ages 10-90, most between 20 and 60), registered
home region and the date the line was registered; a home district weighted by
density; for about 60 % a workplace or school district chosen by a gravity
model (schools near home); usual hours of leaving and working. About 3 % are
migrant workers from other provinces who arrive partway through the period
(their line is registered on arrival day) and about 2 % move home at the first
month boundary of the period. Residents are the operator's subscribers with the
market share of their home district and age band (see `market_share`); only
subscribers are in the operator's register, where 1.5 % of genders are not
recorded (`unknown`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from popflow import columns as col
from popflow.ingest.subscribers import SOURCE as SUBSCRIBERS
from popflow.synth.clock import Period
from popflow.synth.geography import Geography
from popflow.synth.gravity import TripChoices
from popflow.synth.market_share import draw_subscribers
from popflow.synth.phone_activity import draw_rates
from popflow.synth.profiles import NO_DISTRICT, RESIDENT, Profiles, draw_place_keys

SUBSCRIBER_ID = SUBSCRIBERS.person_column
LOCAL_REGION = "440000"
OTHER_REGIONS = ("510000", "430000", "450000", "360000", "420000", "410000", "350000")
OTHER_REGION_SHARES = (0.24, 0.22, 0.16, 0.14, 0.1, 0.08, 0.06)
LONG_SETTLED_SHARE = 0.05  # earlier incomers: registered elsewhere long ago, live here
MIGRANT_SHARE = 0.03
MOVER_SHARE = 0.02
SATURDAY_WORKER_SHARE = 0.12
HOME_MCC = "460"
MOBILE_PREFIXES = (134, 135, 136, 137, 138, 139, 150, 151, 152, 157, 158, 159, 182, 187, 188)
GENDERS = ("F", "M", "other", "unknown")
GENDER_SHARES = (0.49, 0.49, 0.005, 0.015)  # as recorded in a register
TRUE_GENDERS, TRUE_GENDER_SHARES = GENDERS[:3], (0.4975, 0.4975, 0.005)
UNRECORDED_GENDER_SHARE = 0.015
FIRST_REGISTRATION = np.datetime64("2003-01-01")
# Relative number of people of each age 10..90: adult-heavy, thinning after 60.
AGE_WEIGHTS = np.interp(np.arange(10, 91), [10, 17, 22, 30, 45, 60, 75, 90],
                        [0.45, 0.6, 1.0, 1.25, 1.15, 0.85, 0.45, 0.1])


@dataclass(frozen=True)
class Residents:
    """Everyone living in the region: register traits, subscription and movement profile."""

    gender: pa.Array  # true gender: F, M or other
    registered_gender: pa.Array  # as the operator's register records it (unknown when not recorded)
    birth_year: np.ndarray  # int16
    origin_region: pa.Array
    registered_on: np.ndarray  # datetime64[D]
    migrant: np.ndarray  # bool
    arrival_day: np.ndarray  # int16 day index of arrival (0 for people already here)
    profiles: Profiles  # profiles.on_network marks the operator's subscribers

    @property
    def subscriber(self) -> np.ndarray:
        return self.profiles.on_network

    def __len__(self) -> int:
        return len(self.birth_year)


def phone_numbers(rng: np.random.Generator, count: int) -> pa.Array:
    """Unique numbers like +8613912345678."""
    drawn = rng.choice(len(MOBILE_PREFIXES) * 10**8, size=count, replace=False)
    prefixes = np.array(MOBILE_PREFIXES)[drawn // 10**8]
    numbers = zip(prefixes.tolist(), (drawn % 10**8).tolist(), strict=True)
    return pa.array([f"+86{prefix}{number:08d}" for prefix, number in numbers])


def draw_ages(rng: np.random.Generator, migrant: np.ndarray) -> np.ndarray:
    """Ages in years: the regional pyramid, or 18-55 (mostly 20s and 30s) for migrants."""
    ages = rng.choice(np.arange(10, 91), size=len(migrant), p=AGE_WEIGHTS / AGE_WEIGHTS.sum())
    working_age = np.clip(rng.normal(30, 7, size=len(migrant)), 18, 55).astype(np.int64)
    return np.where(migrant, working_age, ages)


def draw_origins(rng: np.random.Generator, migrant: np.ndarray) -> pa.Array:
    """Registered home region: local, except migrants and a few long-settled incomers."""
    elsewhere = migrant | (rng.random(len(migrant)) < LONG_SETTLED_SHARE)
    region = rng.choice(len(OTHER_REGIONS), size=len(migrant), p=OTHER_REGION_SHARES)
    codes = np.array((*OTHER_REGIONS, LOCAL_REGION))
    return pa.array(codes[np.where(elsewhere, region, len(OTHER_REGIONS))])


def draw_registration(
    rng: np.random.Generator, start: datetime.date, birth_year: np.ndarray,
    migrant: np.ndarray, arrival_day: np.ndarray,
) -> np.ndarray:
    """Line registration dates: any day since age 12 (and 2003), or migrants' arrival day."""
    first_day = np.datetime64(start, "D")
    age_12 = (birth_year + 12 - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    earliest = np.minimum(np.maximum(age_12, FIRST_REGISTRATION), first_day - 1)
    span = (first_day - earliest).astype(np.int64)
    settled = earliest + (rng.random(len(span)) * span).astype(np.int64)
    return np.where(migrant, first_day + arrival_day.astype(np.int64), settled)


def employment_chance(ages: np.ndarray, migrant: np.ndarray) -> np.ndarray:
    """Probability of having a daily workplace or school, by age."""
    chance = np.interp(ages, [10, 17, 18, 22, 23, 59, 60, 64, 65, 90],
                       [0.96, 0.96, 0.75, 0.75, 0.8, 0.8, 0.4, 0.4, 0.05, 0.0])
    return np.where(migrant, 0.97, chance)


def draw_workplaces(
    rng: np.random.Generator, homes: np.ndarray, ages: np.ndarray, migrant: np.ndarray,
    choices: TripChoices,
) -> np.ndarray:
    """A workplace (adults) or school (under 18) district, or NO_DISTRICT."""
    occupied = rng.random(len(homes)) < employment_chance(ages, migrant)
    work = np.where(ages < 18, choices.school.draw(rng, homes), choices.work.draw(rng, homes))
    return np.where(occupied, work, NO_DISTRICT).astype(np.int16)


def draw_work_hours(rng: np.random.Generator, ages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Usual hour of leaving home and hours at work or school (about 7-9 and 8-10)."""
    pupil = ages < 18
    leave = np.where(pupil, rng.normal(7.3, 0.25, len(ages)), rng.normal(8.0, 0.5, len(ages)))
    hours = np.where(pupil, rng.normal(8.6, 0.4, len(ages)), rng.normal(9.5, 0.6, len(ages)))
    return (np.clip(leave, 6.5, 9.5).astype(np.float32),
            np.clip(hours, 7.5, 11.0).astype(np.float32))


def draw_moves(
    rng: np.random.Generator, homes: np.ndarray, migrant: np.ndarray, period: Period,
    choices: TripChoices,
) -> tuple[np.ndarray, np.ndarray]:
    """New home and move day: ~2 % of settled people move at the first month boundary."""
    boundary = period.first_month_boundary()
    never = np.full(len(homes), len(period.days), dtype=np.int16)
    if boundary is None:
        return homes.copy(), never
    moving = ~migrant & (rng.random(len(homes)) < MOVER_SHARE)
    new_home = np.where(moving, choices.relocation.draw(rng, homes), homes).astype(np.int16)
    return new_home, np.where(moving, boundary, never).astype(np.int16)


def draw_arrivals(rng: np.random.Generator, migrant: np.ndarray, period: Period) -> tuple:
    """Arrival day (within the first two thirds of the period) and slot of migrants."""
    days = len(period.days)
    earliest = 1 if days > 1 else 0
    latest = max(earliest, min(days - 1, (2 * days) // 3))
    day = np.where(migrant, rng.integers(earliest, latest + 1, len(migrant)), 0)
    hour = rng.integers(9, 21, len(migrant))
    slot = np.zeros(len(migrant), dtype=np.int32)
    for index in np.unique(day[migrant]):
        arriving = migrant & (day == index)
        slot[arriving] = period.days[index].slot_at(hour[arriving])
    return day.astype(np.int16), slot


def draw_genders(rng: np.random.Generator, count: int) -> tuple[pa.Array, pa.Array]:
    """True genders, and the register's record of them (some not recorded)."""
    true = np.array(TRUE_GENDERS)[rng.choice(len(TRUE_GENDERS), size=count, p=TRUE_GENDER_SHARES)]
    recorded = np.where(rng.random(count) < UNRECORDED_GENDER_SHARE, "unknown", true)
    return pa.array(true), pa.array(recorded)


def build_residents(
    rng: np.random.Generator, people: int, period: Period, geo: Geography, choices: TripChoices,
    shares: np.ndarray,
) -> Residents:
    """Draw the region's `people` residents, migrants and movers included.

    `shares` is the operator's market share per (district, age band).
    """
    migrant = rng.random(people) < MIGRANT_SHARE
    ages = draw_ages(rng, migrant)
    birth_year = (period.start.year - ages).astype(np.int16)
    homes = rng.choice(geo.districts, size=people, p=geo.density).astype(np.int16)
    new_home, move_day = draw_moves(rng, homes, migrant, period, choices)
    arrival_day, arrive_slot = draw_arrivals(rng, migrant, period)
    leave, hours = draw_work_hours(rng, ages)
    work = draw_workplaces(rng, homes, ages, migrant, choices)
    profiles = Profiles(
        ids=phone_numbers(rng, people),
        on_network=draw_subscribers(rng, shares, homes, ages),
        place_key=draw_place_keys(rng, people),
        kind=np.full(people, RESIDENT, dtype=np.int8),
        mcc=pa.array(np.full(people, HOME_MCC)),
        home=homes, new_home=new_home, move_day=move_day, work=work,
        leave_hour=leave, work_hours=hours,
        works_saturday=(work >= 0) & (ages >= 18) & (rng.random(people) < SATURDAY_WORKER_SHARE),
        sightseer=np.zeros(people, dtype=bool),
        arrive_slot=arrive_slot,
        depart_slot=np.full(people, period.end_slot, dtype=np.int32),
        rate=draw_rates(rng, people),
    )
    gender, registered_gender = draw_genders(rng, people)
    return Residents(
        gender=gender, registered_gender=registered_gender,
        birth_year=birth_year,
        origin_region=draw_origins(rng, migrant),
        registered_on=draw_registration(rng, period.start, birth_year, migrant, arrival_day),
        migrant=migrant, arrival_day=arrival_day, profiles=profiles,
    )


def register_table(
    ids: pa.Array, gender: pa.Array, birth_year: np.ndarray, origin_region: pa.Array,
    registered_on: np.ndarray,
) -> pa.Table:
    """Rows of the `subscribers` input: subscriber_id, gender, birth_year, origin_region, registered_on."""
    return pa.table({
        SUBSCRIBER_ID: ids,
        col.GENDER: gender,
        col.BIRTH_YEAR: birth_year,
        col.ORIGIN_REGION: origin_region,
        col.REGISTERED_ON: pa.array(registered_on.astype("datetime64[D]")),
    })


def subscriber_table(residents: Residents) -> pa.Table:
    """The register rows of the residents who are the operator's subscribers."""
    rows = np.flatnonzero(residents.subscriber)
    taken = pa.array(rows)
    return register_table(residents.profiles.ids.take(taken), residents.registered_gender.take(taken),
                          residents.birth_year[rows], residents.origin_region.take(taken),
                          residents.registered_on[rows])
