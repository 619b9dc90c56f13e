"""Stays and moves on hand-made timelines, the expected stays written out by hand; on random timelines, the
same stays as the definition in words (``reference.timeline``) and the invariants the definition guarantees."""

from __future__ import annotations

import math

import duckdb
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from popflow.indicators.params import parse_duration
from popflow.indicators.stays import MIN_STAY, stay_bins, stays

import reference as ref


def at(local: str) -> int:
    """Local epoch seconds of a local time such as ``2026-01-20 08:00``."""
    return int((pd.Timestamp(local) - pd.Timestamp(0)).total_seconds())


def stays_of(events: list[tuple[int, int, str]], max_gap: str = "12h") -> pd.DataFrame:
    """The stays SQL on DuckDB over ``(person, t, area_id)`` events."""
    con = duckdb.connect()
    con.register("events", pd.DataFrame(events, columns=["person", "t", "area_id"]))
    return con.sql(stays(parse_duration(max_gap)) + " ORDER BY person, start_t").df()


def timeline(events: list[tuple[str, str]], max_gap: str = "12h") -> list[tuple[str, int, int]]:
    """One person's stays ``(area, start, end)`` from ``(local time, area)`` events."""
    got = stays_of([(1, at(local), area) for local, area in events], max_gap)
    return list(zip(got["area_id"], got["start_t"], got["end_t"], strict=True))


def stay(area: str, start: str, end: str) -> tuple[str, int, int]:
    return area, at(start), at(end)


def test_ping_pong_at_a_border_makes_no_move():
    events = [("2026-01-20 08:00", "A"), ("2026-01-20 08:03", "B"), ("2026-01-20 08:07", "A"),
              ("2026-01-20 08:12", "B"), ("2026-01-20 08:15", "A"), ("2026-01-20 11:00", "A")]
    assert timeline(events) == [stay("A", "2026-01-20 02:00", "2026-01-20 17:00")]


def test_one_event_across_the_border_is_absorbed():
    events = [("2026-01-20 09:00", "A"), ("2026-01-20 09:20", "B"), ("2026-01-20 09:50", "A")]
    assert timeline(events) == [stay("A", "2026-01-20 03:00", "2026-01-20 15:50")]
    # Two runs away (a corner of three areas) are absorbed as well.
    events = [("2026-01-20 09:00", "A"), ("2026-01-20 09:20", "B"), ("2026-01-20 09:30", "C"),
              ("2026-01-20 09:50", "A")]
    assert timeline(events) == [stay("A", "2026-01-20 03:00", "2026-01-20 15:50")]


def test_a_single_event_across_the_border_hours_from_the_others_is_absorbed():
    events = [("2026-01-20 08:00", "A"), ("2026-01-20 13:00", "B"), ("2026-01-20 18:00", "A")]
    assert timeline(events) == [stay("A", "2026-01-20 02:00", "2026-01-21 00:00")]
    # Two events in B are a visit: they stay, meeting A in the middle of each gap.
    events = [("2026-01-20 08:00", "A"), ("2026-01-20 13:00", "B"), ("2026-01-20 13:10", "B"),
              ("2026-01-20 18:00", "A")]
    assert timeline(events) == [stay("A", "2026-01-20 02:00", "2026-01-20 10:30"),
                                stay("B", "2026-01-20 10:30", "2026-01-20 15:35"),
                                stay("A", "2026-01-20 15:35", "2026-01-21 00:00")]


def test_ping_pong_that_starts_across_the_border_is_placed_where_most_events_are():
    events = [("2026-01-20 08:00", "B"), ("2026-01-20 08:03", "A"), ("2026-01-20 08:04", "A"),
              ("2026-01-20 08:06", "A"), ("2026-01-20 08:09", "B"), ("2026-01-20 08:12", "A"),
              ("2026-01-20 11:00", "A")]
    assert timeline(events) == [stay("A", "2026-01-20 02:00", "2026-01-20 17:00")]


def test_an_evening_ending_across_the_border_before_a_quiet_night_stays_home():
    events = [("2026-01-20 20:00", "A"), ("2026-01-20 20:05", "B"), ("2026-01-20 20:10", "A"),
              ("2026-01-20 20:40", "A"), ("2026-01-20 20:50", "B"), ("2026-01-20 20:51", "B"),
              ("2026-01-21 07:30", "A"), ("2026-01-21 07:45", "A")]
    assert timeline(events) == [stay("A", "2026-01-20 14:00", "2026-01-21 13:45")]


def test_ping_pong_then_a_move_is_one_move_at_its_end():
    events = [("2026-01-20 07:00", "A"), ("2026-01-20 08:00", "A"), ("2026-01-20 08:05", "B"),
              ("2026-01-20 08:10", "A"), ("2026-01-20 08:15", "B"), ("2026-01-20 08:40", "B"),
              ("2026-01-20 12:00", "B")]
    assert timeline(events) == [stay("A", "2026-01-20 01:00", "2026-01-20 08:12:30"),
                                stay("B", "2026-01-20 08:12:30", "2026-01-20 18:00")]
    # Fewer events there than in the alternation are no evidence of a move: the person stays.
    assert timeline(events[:-1]) == [stay("A", "2026-01-20 01:00", "2026-01-20 14:40")]


def border_days(first: str, last: str, near: str, far: str) -> list[tuple[str, str]]:
    """A day at a border place on each date from ``first`` to ``last``: ping-pong at 08:00, one more event at
    20:00."""
    return [(f"{day.date()} {clock}", area) for day in pd.date_range(first, last)
            for clock, area in (("08:00", near), ("08:01", far), ("08:02", near), ("20:00", near))]


def test_a_border_place_is_one_place_however_long_a_spell_across():
    # Alternation A B A on four days links A and B; B holds fewer events and leans on A. On the fifth day two
    # events on B between sessions in A hours apart are the same place, not a visit.
    fifth = [("2026-01-24 08:00", "A"), ("2026-01-24 11:00", "B"), ("2026-01-24 11:01", "B"),
             ("2026-01-24 13:00", "A")]
    events = border_days("2026-01-20", "2026-01-23", "A", "B") + fifth
    assert timeline(events) == [stay("A", "2026-01-20 02:00", "2026-01-24 19:00")]
    # Whichever area the place is seen in more: with the labels swapped it is one stay in B.
    swapped = [(local, {"A": "B", "B": "A"}[area]) for local, area in events]
    assert timeline(swapped) == [stay("B", "2026-01-20 02:00", "2026-01-24 19:00")]
    # Three days of alternation do not link the areas: the spell on B is a visit.
    events = border_days("2026-01-21", "2026-01-23", "A", "B") + fifth
    assert timeline(events) == [stay("A", "2026-01-21 02:00", "2026-01-24 09:30"),
                                stay("B", "2026-01-24 09:30", "2026-01-24 12:00:30"),
                                stay("A", "2026-01-24 12:00:30", "2026-01-24 19:00")]


def test_a_home_at_a_border_is_not_absorbed_by_a_busier_day_place():
    # Home near the border of A and B (ping-pong in the morning, nights in A), work in B: B holds more events,
    # A more night events, so neither leans on the other and the nights stay in A.
    events = [(f"{day.date()} {clock}", area) for day in pd.date_range("2026-01-20", "2026-01-23")
              for clock, area in (("08:00", "A"), ("08:01", "B"), ("08:02", "A"), ("12:00", "B"), ("12:01", "B"),
                                  ("14:00", "B"), ("16:00", "B"), ("23:00", "A"), ("23:01", "A"))]
    got = timeline(events)
    for day in pd.date_range("2026-01-21", "2026-01-23"):
        assert any(area == "A" and start <= at(f"{day.date()} 03:00") < end for area, start, end in got)
    assert {area for area, _, _ in got} == {"A", "B"}


def test_a_visit_next_door_without_alternation_is_a_trip():
    home = [(f"{day.date()} {clock}", "A") for day in pd.date_range("2026-01-20", "2026-01-23")
            for clock in ("08:00", "08:01", "20:00")]
    afternoon = [("2026-01-24 08:00", "A"), ("2026-01-24 13:00", "B"), ("2026-01-24 13:10", "B"),
                 ("2026-01-24 15:00", "B"), ("2026-01-24 20:00", "A")]
    assert timeline(home + afternoon) == [stay("A", "2026-01-20 02:00", "2026-01-24 10:30"),
                                          stay("B", "2026-01-24 10:30", "2026-01-24 17:30"),
                                          stay("A", "2026-01-24 17:30", "2026-01-25 02:00")]


def test_a_silent_night_at_home_is_one_stay():
    events = [("2026-01-20 21:00", "A"), ("2026-01-21 07:30", "A")]
    assert timeline(events) == [stay("A", "2026-01-20 15:00", "2026-01-21 13:30")]


def test_a_commute_with_one_event_at_each_end_meets_in_the_gap():
    events = [("2026-01-20 07:00", "A"), ("2026-01-20 10:00", "B")]
    assert timeline(events) == [stay("A", "2026-01-20 01:00", "2026-01-20 08:30"),
                                stay("B", "2026-01-20 08:30", "2026-01-20 16:00")]


def test_a_move_across_a_quiet_night_is_placed_in_waking_hours():
    # 1 h of waking time before the night and 2 h after it: the stays meet 1.5 h into it, at 06:30.
    events = [("2026-01-20 21:00", "A"), ("2026-01-21 08:00", "B")]
    assert timeline(events) == [stay("A", "2026-01-20 15:00", "2026-01-21 06:30"),
                                stay("B", "2026-01-21 06:30", "2026-01-21 14:00")]
    # A silence inside one night has no waking time: it goes to the earlier stay.
    events = [("2026-01-20 23:00", "A"), ("2026-01-21 02:00", "B")]
    assert timeline(events) == [stay("A", "2026-01-20 17:00", "2026-01-21 02:00"),
                                stay("B", "2026-01-21 02:00", "2026-01-21 08:00")]


def test_a_phone_off_for_two_days_is_unknown_in_between():
    events = [("2026-01-20 20:00", "A"), ("2026-01-22 20:00", "A")]
    assert timeline(events) == [stay("A", "2026-01-20 14:00", "2026-01-21 02:00"),
                                stay("A", "2026-01-22 14:00", "2026-01-23 02:00")]
    events = [("2026-01-20 20:00", "A"), ("2026-01-22 20:00", "C")]
    assert timeline(events) == [stay("A", "2026-01-20 14:00", "2026-01-21 02:00"),
                                stay("C", "2026-01-22 14:00", "2026-01-23 02:00")]


def test_max_gap_bounds_the_silence_a_stay_lasts_through():
    events = [("2026-01-20 21:00", "A"), ("2026-01-21 07:30", "A")]
    assert timeline(events, max_gap="6h") == [stay("A", "2026-01-20 18:00", "2026-01-21 00:00"),
                                               stay("A", "2026-01-21 04:30", "2026-01-21 10:30")]


def test_an_area_crossed_on_the_way_is_not_a_stay():
    events = [("2026-01-20 08:00", "A"), ("2026-01-20 08:10", "B"), ("2026-01-20 08:20", "C"),
              ("2026-01-20 12:00", "C")]
    assert timeline(events) == [stay("A", "2026-01-20 02:00", "2026-01-20 08:10"),
                                stay("C", "2026-01-20 08:10", "2026-01-20 18:00")]


def test_a_bin_counts_the_stay_holding_its_middle():
    con = duckdb.connect()
    con.register("timeline", pd.DataFrame({"person": [1], "area_id": ["A"], "start_t": [at("2026-01-20 08:20")],
                                           "end_t": [at("2026-01-20 10:40")]}))
    for minutes, starts in [(60, ["08:00", "09:00", "10:00"]), (30, ["08:30", "09:00", "09:30", "10:00"])]:
        got = con.sql(stay_bins("timeline", minutes * 60) + " ORDER BY slot").df()
        assert list(got["slot"]) == [at(f"2026-01-20 {s}") for s in starts]


# Random timelines of three people: gaps from seconds (ping-pong) to days (a phone off).
GAPS = st.sampled_from([0, 30, 120, 400, 900, 1800, 3600, 3 * 3600, 11 * 3600, 13 * 3600, 30 * 3600])
EVENT = st.tuples(st.integers(0, 2), GAPS, st.sampled_from("AABBC"))
MAX_GAPS = st.sampled_from(["1h", "6h", "12h", "48h"])


def random_events(steps: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """``(person, t, area)`` with each step's gap added to a running clock."""
    clock, out = at("2026-01-20 00:00"), []
    for person, gap, area in steps:
        clock += gap
        out.append((person, clock, area))
    return out


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(EVENT, min_size=1, max_size=80), max_gap=MAX_GAPS)
def test_stays_follow_the_definition_in_words(steps, max_gap):
    same_as_in_words(random_events(steps), max_gap)


# A day's pattern of one person (gaps from seconds to hours), repeated on several days, then other events: areas
# alternated with within minutes on enough days are linked.
DAY = st.lists(st.tuples(st.just(0), st.sampled_from([20, 60, 200, 400, 2 * 3600, 5 * 3600]),
                         st.sampled_from("AABBC")), min_size=2, max_size=12)


@settings(max_examples=60, deadline=None)
@given(day=DAY, days=st.integers(3, 6), after=st.lists(EVENT, max_size=20), max_gap=MAX_GAPS)
def test_stays_at_border_places_follow_the_definition_in_words(day, days, after, max_gap):
    events = [(person, t + d * 86400, area) for d in range(days) for person, t, area in random_events(day)]
    later = events[-1][1] + 86400 - at("2026-01-20 00:00")
    same_as_in_words(events + [(p, t + later, a) for p, t, a in random_events(after)], max_gap)


def same_as_in_words(events: list[tuple[int, int, str]], max_gap: str) -> None:
    """The stays SQL gives each person the stays ``reference.timeline`` gives."""
    got = stays_of(events, max_gap)
    for person in {p for p, _, _ in events}:
        mine = [(t, a) for p, t, a in events if p == person]
        want = ref.timeline(mine, parse_duration(max_gap))
        rows = got[got["person"] == person]
        assert list(zip(rows["area_id"], rows["first_t"], rows["last_t"], rows["start_t"], rows["end_t"],
                        strict=True)) == want


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(EVENT, min_size=1, max_size=80), max_gap=MAX_GAPS)
def test_stays_invariants(steps, max_gap):
    events, gap = random_events(steps), parse_duration(max_gap)
    got = stays_of(events, max_gap)
    assert set(got["person"]) == {p for p, _, _ in events}
    for person, rows in got.groupby("person"):
        mine = sorted((t, a) for p, t, a in events if p == person)
        leaning = ref.leanings(mine)
        assert (rows["start_t"].iloc[1:].to_numpy() >= rows["end_t"].iloc[:-1].to_numpy()).all()
        assert (rows["end_t"] - rows["start_t"] >= MIN_STAY).all()
        for row in rows.itertuples():
            assert row.first_t in {t for t, _ in mine}  # a stay begins at one of the person's events
            assert any(row.first_t <= t <= row.last_t and leaning.get(a, a) == row.area_id  # one in its area or
                       for t, a in mine)  # in an area leaning on it
            assert row.start_t <= row.first_t <= row.last_t <= row.end_t
            assert within_reach(row.start_t, row.end_t, [t for t, _ in mine], gap)


def within_reach(start: int, end: int, times: list[int], max_gap: int) -> bool:
    """Whether every moment of [start, end) lies within ``max_gap / 2`` (rounded up) of one of ``times`` or
    between two consecutive ones at most ``max_gap`` apart."""
    reach, covered = math.ceil(max_gap / 2), start
    for i, t in enumerate(times):
        if t - reach > covered:
            break
        joined = i + 1 < len(times) and times[i + 1] - t <= max_gap
        covered = max(covered, times[i + 1] if joined else t + reach)
    return covered >= end
