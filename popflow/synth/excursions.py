"""Residents' trips to scenic districts: weekend and holiday getaways and day trips.

Trips are planned for the whole period before the simulation, day by day, for the
residents present all day (never two trips at once):

* overnight trips: on a night before a rest day (a Friday or Saturday night, or a
  night in a public holiday), 1.2 % of them leave for one night, or for two (40 %)
  when the next night also precedes a rest day; two and a half times as many when
  the day or the next is a public holiday. They leave home between 08:30 and 12:00
  on a rest day, between 18:30 and 20:30 after a working day, sleep in the scenic
  district and are back home between 14:00 and 19:30 on the last day;
* same-day trips: on a rest day, 3 % of them (4.5 % on a public holiday) leave home
  between 08:30 and 11:00 and spend 4-8 hours in a scenic district.

The destination is a scenic district other than the resident's home of that day
and their work district, nearer ones more likely (weight exp(-distance / 25 km)).
On the days of a trip it overrides every other plan of those hours.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from popflow.synth.clock import Period
from popflow.synth.geography import Geography
from popflow.synth.profiles import Profiles
from popflow.synth.public_holidays import holidays_between, rest_days

OVERNIGHT_SHARE = 0.012
TWO_NIGHT_SHARE = 0.4
SAMEDAY_SHARE = 0.03
HOLIDAY_OVERNIGHT_BOOST = 2.5
HOLIDAY_SAMEDAY_BOOST = 1.5
DECAY_KM = 25.0
LEAVE_REST_DAY = (8.5, 12.0)
LEAVE_AFTER_WORK = (18.5, 20.5)
RETURN_OVERNIGHT = (14.0, 19.5)
LEAVE_SAMEDAY = (8.5, 11.0)
STAY_SAMEDAY = (4.0, 8.0)


@dataclass(frozen=True)
class Excursions:
    """Planned trips, ordered by person; a trip covers days first_day..first_day + nights."""

    person: np.ndarray  # int32 row in the profiles
    first_day: np.ndarray  # int16 day index of leaving home
    nights: np.ndarray  # int8 nights away, 0 for a same-day trip
    district: np.ndarray  # int16 scenic district visited
    leave_hour: np.ndarray  # float32 local hour of leaving home on the first day
    return_hour: np.ndarray  # float32 local hour of being back home on the last day

    def __len__(self) -> int:
        return len(self.person)

    def select(self, rows: np.ndarray | slice) -> Excursions:
        return Excursions(**{f.name: getattr(self, f.name)[rows] for f in dataclasses.fields(self)})

    def on_day(self, day_index: int, begin: int, end: int) -> Excursions:
        """Trips under way on a day by persons begin..end-1, numbered from `begin`."""
        low, high = np.searchsorted(self.person, [begin, end])
        part = self.select(slice(low, high))
        active = (part.first_day <= day_index) & (part.first_day + part.nights >= day_index)
        part = part.select(active)
        return dataclasses.replace(part, person=part.person - begin)

    def apply(self, where: np.ndarray, hours: np.ndarray, day_index: int) -> None:
        """Put travellers in their scenic district for the hours of `day_index` they spend there."""
        if len(self) == 0:
            return
        start = np.where(self.first_day == day_index, self.leave_hour, -1.0)
        end = np.where(self.first_day + self.nights == day_index, self.return_hour, 25.0)
        block = where[:, self.person]
        np.copyto(block, self.district, where=(hours >= start) & (hours < end))
        where[:, self.person] = block


def no_excursions() -> Excursions:
    empty = np.empty(0)
    return Excursions(empty.astype(np.int32), empty.astype(np.int16), empty.astype(np.int8),
                      empty.astype(np.int16), empty.astype(np.float32), empty.astype(np.float32))


def destinations(
    rng: np.random.Generator, home: np.ndarray, work: np.ndarray, geo: Geography, scenic: np.ndarray
) -> np.ndarray:
    """A scenic district outside each traveller's home and work district."""
    weight = np.exp(-geo.distances_km()[home][:, scenic] / DECAY_KM)
    weight[(scenic[None, :] == home[:, None]) | (scenic[None, :] == work[:, None])] = 0.0
    cumulative = np.cumsum(weight, axis=1)
    pick = (cumulative < rng.random(len(home))[:, None] * cumulative[:, -1:]).sum(axis=1)
    return scenic[np.minimum(pick, len(scenic) - 1)].astype(np.int16)


def trip_chances(period: Period) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per day: chance of an overnight start, of a same-day trip, and whether a 2nd night fits."""
    days = len(period.days)
    rest = rest_days(period.start, days + 2)
    holiday = holidays_between(period.start, days + 2)
    festive = holiday[:days] | holiday[1:days + 1]
    overnight = np.where(rest[1:days + 1], OVERNIGHT_SHARE, 0.0)
    overnight *= np.where(festive, HOLIDAY_OVERNIGHT_BOOST, 1.0)
    sameday = np.where(rest[:days], SAMEDAY_SHARE, 0.0)
    sameday *= np.where(holiday[:days], HOLIDAY_SAMEDAY_BOOST, 1.0)
    return overnight, sameday, rest[2:days + 2]


def plan_day(
    rng: np.random.Generator, day_index: int, chances: tuple, free: np.ndarray, rest_day: bool,
    home: np.ndarray, people: Profiles, geo: Geography, scenic: np.ndarray,
) -> Excursions:
    """The trips starting on one day among the `free` residents."""
    overnight_chance, sameday_chance, second_night_fits = chances
    draw = rng.random(len(free))
    starting = np.flatnonzero(free & (draw < overnight_chance + sameday_chance))
    count = len(starting)
    overnight = draw[starting] < overnight_chance
    two_nights = overnight & second_night_fits & (rng.random(count) < TWO_NIGHT_SHARE)
    leave_overnight = rng.uniform(*(LEAVE_REST_DAY if rest_day else LEAVE_AFTER_WORK), count)
    leave_sameday = rng.uniform(*LEAVE_SAMEDAY, count)
    back_sameday = leave_sameday + rng.uniform(*STAY_SAMEDAY, count)
    back_overnight = rng.uniform(*RETURN_OVERNIGHT, count)
    return Excursions(
        person=starting.astype(np.int32),
        first_day=np.full(count, day_index, dtype=np.int16),
        nights=(overnight.astype(np.int8) + two_nights),
        district=destinations(rng, home[starting], people.work[starting], geo, scenic),
        leave_hour=np.where(overnight, leave_overnight, leave_sameday).astype(np.float32),
        return_hour=np.where(overnight, back_overnight, back_sameday).astype(np.float32),
    )


def plan_excursions(
    rng: np.random.Generator, residents: Profiles, period: Period, geo: Geography, scenic: np.ndarray
) -> Excursions:
    """Every resident trip of the period, ordered by person then first day."""
    overnight, sameday, second_night = trip_chances(period)
    rest = rest_days(period.start, len(period.days))
    busy_until = np.full(len(residents), -1, dtype=np.int32)
    plans = [no_excursions()]
    for day in period.days:
        d = day.index
        if overnight[d] + sameday[d] == 0.0:
            continue
        home = np.where(d >= residents.move_day, residents.new_home, residents.home)
        free = (busy_until < d) & (residents.arrive_slot <= day.first_slot)
        plan = plan_day(rng, d, (overnight[d], sameday[d], second_night[d]), free, bool(rest[d]),
                        home, residents, geo, scenic)
        busy_until[plan.person] = d + plan.nights
        plans.append(plan)
    merged = {f.name: np.concatenate([getattr(p, f.name) for p in plans]) for f in dataclasses.fields(Excursions)}
    order = np.lexsort((merged["first_day"], merged["person"]))
    return Excursions(**merged).select(order)
