"""Where each person is, hour by hour, on one local day.

The result is a (slots, people) matrix of district indices, -1 where a person is
not in the region (before arrival, after departure). Rules, applied in order:

* everyone starts at home (a mover sleeps at the new home from the move day's night);
* people with a workplace or school go there on weekdays (Saturday workers also on
  Saturdays) unless absent (6 % of days), leaving around their usual hour (7-9,
  jittered daily) and staying their usual hours (back about 17-19);
* leisure outings to a district chosen by a gravity model: after work on 15 % of
  working days, by day on 35 % of other weekdays and 55 % of weekend days, always
  back home by 22:00;
* visitors tour central and scenic districts by day (two stops) and sleep at their hotel;
* on 4 % of nights a resident sleeps elsewhere, from 22:00 to 06:00 the next day;
* residents on a planned trip to a scenic district (see `excursions`) spend its
  hours there, whatever else they would have done.

Positions are evaluated at the middle of each hour slot.
"""

from __future__ import annotations

import numpy as np

from popflow.synth.clock import Day
from popflow.synth.excursions import Excursions
from popflow.synth.gravity import TripChoices
from popflow.synth.profiles import NO_DISTRICT, Profiles

ABSENCE_SHARE = 0.06
NIGHT_AWAY_SHARE = 0.04
NIGHT_STARTS, NIGHT_ENDS = 22.0, 6.0
SIGHTSEEING_REST_DAY_SHARE = 0.1
SATURDAY = 5
# Outing plans: chance, earliest and latest start, shortest and longest stay (hours).
OUTING_AFTER_WORK = (0.15, 0.3, 1.5, 1.0, 3.0)  # start counted from the return home
OUTING_WEEKDAY = (0.35, 9.0, 16.0, 1.0, 4.0)
OUTING_WEEKEND = (0.55, 9.5, 15.0, 2.0, 6.0)


def locate_day(
    rng: np.random.Generator, people: Profiles, day: Day, choices: TripChoices,
    away_last_night: np.ndarray, trips: Excursions,
) -> tuple[np.ndarray, np.ndarray]:
    """District per (slot, person) for `day`, and where each person sleeps tonight if away.

    `trips` are the excursions under way on `day`, numbered like `people`.
    """
    hours = (day.local_hours.astype(np.float32) + 0.5)[:, None]
    home = np.where(day.index >= people.move_day, people.new_home, people.home).astype(np.int16)
    last_home = np.where(day.index > people.move_day, people.new_home, people.home)
    where = np.repeat(home[None, :], day.slots, axis=0)
    np.copyto(where, last_home, where=hours < NIGHT_ENDS)  # a move happens by day
    back_home = commute(rng, where, hours, people, day)
    go_on_outings(rng, where, hours, people, day, home, back_home, choices)
    go_sightseeing(rng, where, hours, people, choices)
    away_tonight = sleep_away(rng, where, hours, people, home, away_last_night, choices)
    trips.apply(where, hours, day.index)
    mark_absent(where, people, day)
    return where, away_tonight


def commute(
    rng: np.random.Generator, where: np.ndarray, hours: np.ndarray, people: Profiles, day: Day
) -> np.ndarray:
    """Put workers at work during working hours; return when each is back home (or NaN)."""
    count = len(people)
    workday = day.is_weekday | (people.works_saturday & (day.date.weekday() == SATURDAY))
    working = (people.work >= 0) & workday & (rng.random(count) >= ABSENCE_SHARE)
    leave = people.leave_hour + rng.normal(0.0, 0.25, count).astype(np.float32)
    back = leave + people.work_hours + rng.normal(0.0, 0.3, count).astype(np.float32)
    at_work = working & (hours >= leave) & (hours < back)
    np.copyto(where, people.work, where=at_work)
    return np.where(working, back, np.nan).astype(np.float32)


def go_on_outings(
    rng: np.random.Generator, where: np.ndarray, hours: np.ndarray, people: Profiles, day: Day,
    home: np.ndarray, back_home: np.ndarray, choices: TripChoices,
) -> None:
    """Send some people to a leisure district for a few hours."""
    count = len(people)
    worked = ~np.isnan(back_home)
    free = OUTING_WEEKDAY if day.is_weekday else OUTING_WEEKEND
    plan = np.where(worked[None, :], np.array(OUTING_AFTER_WORK)[:, None], np.array(free)[:, None])
    chance, start_lo, start_hi, length_lo, length_hi = plan
    going = ~people.sightseer & (rng.random(count) < chance)
    start = rng.uniform(start_lo, start_hi) + np.where(worked, back_home, 0.0)
    end = np.minimum(start + rng.uniform(length_lo, length_hi), NIGHT_STARTS)
    destination = choices.outing.draw(rng, home)
    np.copyto(where, destination, where=going & (hours >= start) & (hours < end))


def go_sightseeing(
    rng: np.random.Generator, where: np.ndarray, hours: np.ndarray, people: Profiles,
    choices: TripChoices,
) -> None:
    """Visitors spend the day at two central districts, then return to their hotel."""
    touring = np.flatnonzero(people.sightseer)
    touring = touring[rng.random(len(touring)) >= SIGHTSEEING_REST_DAY_SHARE]
    if len(touring) == 0:
        return
    hotel = people.home[touring]
    start = rng.uniform(8.5, 10.5, len(touring))
    switch = rng.uniform(12.5, 15.0, len(touring))
    end = rng.uniform(17.0, 21.0, len(touring))
    first, second = choices.sightseeing.draw(rng, hotel), choices.sightseeing.draw(rng, hotel)
    block = where[:, touring]
    np.copyto(block, first, where=(hours >= start) & (hours < switch))
    np.copyto(block, second, where=(hours >= switch) & (hours < end))
    where[:, touring] = block


def sleep_away(
    rng: np.random.Generator, where: np.ndarray, hours: np.ndarray, people: Profiles,
    home: np.ndarray, away_last_night: np.ndarray, choices: TripChoices,
) -> np.ndarray:
    """Apply last night's and tonight's stays away from home; return tonight's."""
    np.copyto(where, away_last_night, where=(hours < NIGHT_ENDS) & (away_last_night >= 0))
    away = ~people.sightseer & (rng.random(len(people)) < NIGHT_AWAY_SHARE)
    tonight = np.where(away, choices.overnight.draw(rng, home), NO_DISTRICT).astype(np.int16)
    np.copyto(where, tonight, where=(hours >= NIGHT_STARTS) & away)
    return tonight


def mark_absent(where: np.ndarray, people: Profiles, day: Day) -> None:
    """Set -1 in the slots before a person's arrival and from their departure on."""
    first, stop = day.first_slot, day.first_slot + day.slots
    outside = (people.arrive_slot > first) | (people.depart_slot < stop)
    if not outside.any():
        return
    slot = np.arange(first, stop, dtype=np.int32)[:, None]
    absent = (slot < people.arrive_slot) | (slot >= people.depart_slot)
    where[absent] = NO_DISTRICT
