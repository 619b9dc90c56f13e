"""tourism on hand-made timelines, the expected visits written out by hand: a silent night away, and a home
near a border whose phone is served across it at night, read from stays and from observed events; and the
estimates of visitors, adjusted for how often each visitor's visits are seen."""

from __future__ import annotations

import pandas as pd

import scenario

CELL = {"A": "a1", "B": "b1", "C": "c1"}
TWINS = 2  # two people with the same timeline, so that every cell passes k = 2


def events(timeline: list[tuple[str, str]], people: range = range(TWINS)) -> pd.DataFrame:
    """``people`` (default ``TWINS``) with the events of ``timeline`` (local time, area), person i's i minutes
    later."""
    rows = [(scenario.phone(person), (pd.Timestamp(local) + pd.Timedelta(minutes=person)).strftime(
                 "%Y-%m-%dT%H:%M:%S+08:00"), CELL[area], "460")
            for person in people for local, area in timeline]
    return pd.DataFrame(rows, columns=["subscriber_id", "timestamp", "cell_id", "mcc"])


def at_home(days: range) -> list[tuple[str, str]]:
    """Evenings, nights and working hours at home in A on 2026-01-``days``."""
    return [(f"2026-01-{day:02d} {hour}", "A") for day in days for hour in ("07:00", "12:00", "23:00")]


def visits(tmp_path, timeline: list[tuple[str, str]], method: str) -> set[tuple[str, str, str, int, int]]:
    """(date, area, visitor type, visitors, nights) of the released tourism cells."""
    ws = scenario.workspace(tmp_path / method, events(timeline), k=TWINS)
    got = ws.run("tourism", method=method).to_pandas()
    return {(str(r.date)[:10], r.area_id, r.visitor_type, int(r.visitors), int(r.nights))
            for r in got.itertuples()}


# At home in A from the 20th to the 23rd; on Saturday the 24th off to C from the morning, last seen there at
# 21:00 and again from 08:00 on the 25th (no event in the night), back in A by the afternoon.
NIGHT_AWAY = at_home(range(20, 24)) + [
    ("2026-01-24 09:00", "A"), ("2026-01-24 14:00", "C"), ("2026-01-24 16:00", "C"), ("2026-01-24 19:00", "C"),
    ("2026-01-24 21:00", "C"), ("2026-01-25 08:00", "C"), ("2026-01-25 11:00", "C"), ("2026-01-25 15:00", "A"),
    ("2026-01-25 23:00", "A")]


def test_a_silent_night_away_is_an_overnight_visit_read_from_stays(tmp_path):
    # The stay in C runs from 11:30 on the 24th (half way from A's last event) to 13:00 on the 25th: the night of
    # the 24th is spent there, and the morning of the 25th (13 bins) is a same-day visit, that night being in A.
    assert visits(tmp_path, NIGHT_AWAY, "stays") == {
        ("2026-01-24", "C", "domestic_overnight", 2, 2), ("2026-01-25", "C", "domestic_sameday", 2, 0)}


def test_observed_events_see_no_night_without_an_event_in_it(tmp_path):
    # Four observed bins in C on the 24th (14, 16, 19, 21 h) and no night location: a same-day visit only.
    assert visits(tmp_path, NIGHT_AWAY, "observed") == {("2026-01-24", "C", "domestic_sameday", 2, 0)}


# Home in A (five nights); on the nights of the 25th to the 27th the phone is served from across the border in B
# (two events there late in the evening), the days still in A.
BORDER = at_home(range(20, 25)) + [
    (f"2026-01-{day} {hour}", area) for day in (25, 26, 27)
    for hour, area in (("07:00", "A"), ("12:00", "A"), ("23:00", "B"), ("23:30", "B"))] + [("2026-01-28 07:00", "A")]


def test_an_area_slept_in_on_min_nights_nights_is_part_of_the_usual_environment(tmp_path):
    assert visits(tmp_path, BORDER, "stays") == set()


def test_observed_usual_environment_is_home_and_work_only(tmp_path):
    assert visits(tmp_path, BORDER, "observed") == {
        (f"2026-01-{day}", "B", "domestic_overnight", 2, 2) for day in (25, 26, 27)}


# Estimates. Twenty residents of A (census 60: each weighs 3), at home from the 5th to the 17th of January with
# events at 07:00 and 23:00. Ten of them ("day trippers") also make one at noon on six days, and spend the 10th in B
# (events there at 10, 11 and 13 h: their stay in B covers the bins of 9 to 13 h). The other ten ("sleepers") make
# one at 02:00 on six days, and sleep in C on the night of the 12th (events there at 17 and 23 h and at 02:00 on the
# 13th: the stay in C runs from noon to 06:30, a same-day visit on the 13th too, its night being in A).
HOME = [(f"2026-01-{day:02d} {hour}", "A") for day in range(5, 18) for hour in ("07:00", "23:00")]
DAY_TRIPPERS = HOME + [(f"2026-01-{day:02d} 12:00", "A") for day in (5, 6, 7, 8, 9, 11)] + [
    ("2026-01-10 08:00", "A"), ("2026-01-10 10:00", "B"), ("2026-01-10 11:00", "B"), ("2026-01-10 13:00", "B"),
    ("2026-01-10 15:00", "A")]
SLEEPERS = HOME + [(f"2026-01-{day:02d} 02:00", "A") for day in range(5, 11)] + [
    ("2026-01-12 17:00", "C"), ("2026-01-12 23:00", "C"), ("2026-01-13 02:00", "C")]


def test_a_visit_counts_in_the_estimate_as_often_as_the_visitor_is_not_seen(tmp_path):
    """A visit seen stands for 1 ÷ the visitor's detection rate visits: the day trippers were seen in B from 10 to
    13 h, and made an event in those hours on 6 of their 12 other days, so each counts twice (the rate pooled over
    the same-day visits is 0.5 too, so shrinking towards it changes nothing); the sleepers' visit of the 13th, seen
    at 02:00 only, is read over 1 to 4 h (its seen bin widened to the 3 bins a same-day visit lasts at least) and
    counts twice likewise; the sleepers made an event in the hours of their night in C on each of their 11 other
    nights, so each counts once. The 90 % interval is Σ w(w − 1) over the multiplied weights, with the 2.5 %
    placement term: the same-day estimates, of weights 6, are wider than the overnight one, of weights 3."""
    timeline = pd.concat([events(DAY_TRIPPERS, range(10)), events(SLEEPERS, range(10, 20))])
    census = pd.DataFrame({"area_id": ["A", "B", "C"], "population": [60, 500, 500]})
    ws = scenario.workspace(tmp_path, timeline, k=TWINS, population=census)
    got = ws.run("tourism").to_pandas()
    cells = {(str(r.date)[:10], r.area_id, r.visitor_type): (r.visitors, r.estimate, r.estimate_low,
                                                             r.estimate_high, r.nights_estimate)
             for r in got.itertuples()}
    # same-day: 10 × 3 × 2 = 60 ± 1.645 √(10 × 6 × 5 + 1.5²); overnight: 10 × 3 = 30 ± 1.645 √(10 × 3 × 2 + 0.75²)
    assert cells == {("2026-01-10", "B", "domestic_sameday"): (10, 60.0, 31.4, 88.6, 0.0),
                     ("2026-01-13", "C", "domestic_sameday"): (10, 60.0, 31.4, 88.6, 0.0),
                     ("2026-01-12", "C", "domestic_overnight"): (10, 30.0, 17.2, 42.8, 30.0)}


def estimates(tmp_path, timeline: pd.DataFrame) -> dict[tuple[str, str, str], tuple]:
    """(date, area, visitor type) -> (visitors, estimate, estimate_low, estimate_high) of the released tourism cells,
    the census giving each resident of A a weight of 3."""
    census = pd.DataFrame({"area_id": ["A", "B", "C"], "population": [30, 500, 500]})
    ws = scenario.workspace(tmp_path, timeline, k=TWINS, population=census)
    return {(str(r.date)[:10], r.area_id, r.visitor_type): (r.visitors, r.estimate, r.estimate_low, r.estimate_high)
            for r in ws.run("tourism").to_pandas().itertuples()}


# Ten residents of A, at home from the 5th to the 17th with events at 07:00 and 23:00, and at noon on three days and
# at 16:00 on three others. On the 10th they are seen in B at 11:00 and 12:00 only: their stay there reaches halfway
# into the silences around it, from 09:00 to 17:00 (bins of 9 to 16 h).
SHORT_VISIT = HOME + [(f"2026-01-{day:02d} 12:00", "A") for day in (5, 6, 7)] + [
    (f"2026-01-{day:02d} 16:00", "A") for day in (8, 9, 11)] + [("2026-01-10 11:00", "B"), ("2026-01-10 12:00", "B")]


def test_a_same_day_visit_is_as_detectable_as_the_hours_it_was_seen_in_not_its_stay(tmp_path):
    """Over the bins of its stay (9 to 16 h) the visitors made an event on 6 of their 12 other days (at noon or at
    16:00): a rate of 0.5, each visit counting twice. The visit was seen from 11 to 12 h, widened to the 3 bins a
    same-day visit lasts at least (11 to 13 h): an event there on 3 of 12 days, a rate of 0.25 (pooled: the same),
    so each visit counts 4 times: 10 × 3 × 4 = 120 ± 1.645 √(10 × 12 × 11 + 3²)."""
    assert estimates(tmp_path, events(SHORT_VISIT, range(10))) == {
        ("2026-01-10", "B", "domestic_sameday"): (10, 120.0, 60.0, 180.0)}
