"""Domestic visitors: tourists from other provinces on a short stay in a scenic district.

With the operator's national market share they are its subscribers (mcc 460, in
`subscribers.csv`), registered in another province long ago; the others use
another network and make no event here. Unlike migrant workers they do not settle: each
arrives once, sleeps 1-3 nights at a hotel in a scenic district, tours scenic and
central districts by day and leaves, so they are in the region on 2-4 consecutive
days and make no event before or after. About 1.2 % as many visitors as residents
arrive per week, mostly on Fridays, Saturdays and public holidays (after 17:00 on
a working day, else between 08:00 and 14:00); they leave between 12:00 and 20:00.
Their numbers use mobile prefixes the residents' never do, so all stay unique.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from popflow.synth.clock import Period
from popflow.synth.market_share import draw_on_network
from popflow.synth.phone_activity import draw_rates
from popflow.synth.profiles import DOMESTIC_VISITOR, Profiles, draw_place_keys, visitor_profiles
from popflow.synth.public_holidays import holidays_between, rest_days
from popflow.synth.residents import GENDER_SHARES, GENDERS, HOME_MCC, register_table

VISITORS_PER_RESIDENT_WEEK = 0.012
VISITOR_PREFIXES = (147, 172, 178, 183, 184, 195, 198)
VISITOR_REGIONS = ("110000", "310000", "320000", "330000", "350000", "360000", "420000", "430000",
                   "450000", "500000", "510000", "610000")
VISITOR_REGION_SHARES = (0.07, 0.08, 0.08, 0.08, 0.1, 0.1, 0.1, 0.14, 0.1, 0.05, 0.07, 0.03)
NIGHTS, NIGHT_SHARES = (1, 2, 3), (0.45, 0.35, 0.2)
# Relative chance of arriving on a day: Monday..Sunday, and on a public holiday.
ARRIVAL_WEIGHTS = (0.4, 0.4, 0.4, 0.5, 3.0, 3.5, 0.6)
HOLIDAY_ARRIVAL_WEIGHT = 3.0
FIRST_REGISTRATION = np.datetime64("2005-01-01")


@dataclass(frozen=True)
class DomesticVisitors:
    """The visitors' register rows plus their movement profiles."""

    gender: pa.Array
    birth_year: np.ndarray  # int16
    origin_region: pa.Array
    registered_on: np.ndarray  # datetime64[D]
    profiles: Profiles

    def __len__(self) -> int:
        return len(self.birth_year)


def visitor_count(residents: int, days: int) -> int:
    return max(1, round(residents * VISITORS_PER_RESIDENT_WEEK * days / 7))


def arrival_day_weights(period: Period) -> np.ndarray:
    """Chance of arriving on each day of the period, summing to 1."""
    weekday = np.array([day.date.weekday() for day in period.days])
    holiday = holidays_between(period.start, len(period.days))
    weight = np.where(holiday, HOLIDAY_ARRIVAL_WEIGHT, np.array(ARRIVAL_WEIGHTS)[weekday])
    return weight / weight.sum()


def draw_visits(rng: np.random.Generator, count: int, period: Period) -> tuple[np.ndarray, np.ndarray]:
    """First slot in and first slot out of the region of each visitor."""
    days = len(period.days)
    arrival = rng.choice(days, size=count, p=arrival_day_weights(period))
    departure = arrival + rng.choice(NIGHTS, size=count, p=NIGHT_SHARES)
    evening = ~rest_days(period.start, days)[arrival]  # arriving after a working day
    arrival_hour = np.where(evening, rng.integers(17, 21, count), rng.integers(8, 14, count))
    departure_hour = rng.integers(12, 20, count)
    return period.stay_slots(arrival, arrival_hour, departure, departure_hour)


def visitor_numbers(rng: np.random.Generator, count: int) -> pa.Array:
    """Unique numbers like +8617812345678 from the visitors' prefixes."""
    drawn = rng.choice(len(VISITOR_PREFIXES) * 10**8, size=count, replace=False)
    prefixes = np.array(VISITOR_PREFIXES)[drawn // 10**8]
    numbers = zip(prefixes.tolist(), (drawn % 10**8).tolist(), strict=True)
    return pa.array([f"+86{prefix}{number:08d}" for prefix, number in numbers])


def draw_registration(rng: np.random.Generator, count: int, period: Period) -> np.ndarray:
    """Lines registered at home any day between 2005 and a month before the period."""
    last = np.datetime64(period.start, "D") - 30
    span = (last - FIRST_REGISTRATION).astype(np.int64)
    return FIRST_REGISTRATION + (rng.random(count) * span).astype(np.int64)


def build_domestic_visitors(
    rng: np.random.Generator, residents: int, period: Period, scenic: np.ndarray
) -> DomesticVisitors:
    """Draw the visitors from other provinces arriving during the period."""
    count = visitor_count(residents, len(period.days))
    hotel = scenic[rng.integers(0, len(scenic), count)].astype(np.int16)
    arrive, depart = draw_visits(rng, count, period)
    ages = np.clip(rng.normal(36, 12, count), 18, 75).astype(np.int64)
    profiles = visitor_profiles(visitor_numbers(rng, count), DOMESTIC_VISITOR, pa.array(np.full(count, HOME_MCC)),
                                draw_on_network(rng, count), draw_place_keys(rng, count),
                                hotel, arrive, depart, len(period.days), draw_rates(rng, count))
    regions = rng.choice(len(VISITOR_REGIONS), size=count, p=VISITOR_REGION_SHARES)
    return DomesticVisitors(
        gender=pa.array(np.array(GENDERS)[rng.choice(4, size=count, p=GENDER_SHARES)]),
        birth_year=(period.start.year - ages).astype(np.int16),
        origin_region=pa.array(np.array(VISITOR_REGIONS)[regions]),
        registered_on=draw_registration(rng, count, period),
        profiles=profiles,
    )


def visitor_table(visitors: DomesticVisitors) -> pa.Table:
    """The register rows of the visitors who are the operator's subscribers."""
    rows = np.flatnonzero(visitors.profiles.on_network)
    taken = pa.array(rows)
    return register_table(visitors.profiles.ids.take(taken), visitors.gender.take(taken), visitors.birth_year[rows],
                          visitors.origin_region.take(taken), visitors.registered_on[rows])
