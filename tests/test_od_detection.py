"""od-flows estimates on hand-made timelines: a trip found counts 1 ÷ the detection rate of its traveller's
activity class (``popflow.indicators.trip_detection``), the expected numbers written out by hand."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from popflow.indicators import trip_detection
from popflow.indicators.blocks import DAY, with_query

import scenario

CELL = {"A": "a1", "B": "b1"}
PEOPLE = 3  # of each kind, so that cells pass k = 2 and the 6 residents of A round to 10 subscribers
CENSUS = pd.DataFrame({"area_id": ["A", "B", "C"], "population": [1000, 500, 500]})  # a resident weighs 100
DAYS = range(20, 30)  # 2026-01-20 .. 2026-01-29


def dense(day: int) -> list[tuple[str, str]]:
    """Every hour from 06:00 to 23:00: at home in A, at work in B from 09:00 to 17:00 (trips A→B and B→A)."""
    return [(f"2026-01-{day} {hour:02d}:00", "B" if 9 <= hour <= 17 else "A") for hour in range(6, 24)]


def sparse(day: int) -> list[tuple[str, str]]:
    """The same commute every day, seen at work only on even days: 07:00 and 23:00 in A, 12:00 in B."""
    work = [(f"2026-01-{day} 12:00", "B")] if day % 2 == 0 else []
    return [(f"2026-01-{day} 07:00", "A"), *work, (f"2026-01-{day} 23:00", "A")]


def events() -> pd.DataFrame:
    rows = [(scenario.phone(person), local, area)
            for person, timeline in enumerate([dense] * PEOPLE + [sparse] * PEOPLE)
            for day in DAYS for local, area in timeline(day)]
    return pd.DataFrame([(p, pd.Timestamp(t).strftime("%Y-%m-%dT%H:%M:%S+08:00"), CELL[a], "460")
                         for p, t, a in rows], columns=["subscriber_id", "timestamp", "cell_id", "mcc"])


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return scenario.workspace(tmp_path_factory.mktemp("od-detection"), events(), k=2, population=CENSUS)


def cells(ws) -> dict[tuple[str, str, str], tuple[int, int, float, float]]:
    got = ws.run("od-flows").to_pandas()
    return {(str(r.date)[:10], r.origin, r.destination): (r.trips, r.travellers, r.trips_estimate, r.estimate)
            for r in got.itertuples()}


def test_a_sparse_phone_seen_on_half_its_trips_counts_twice(ws, monkeypatch):
    """The dense commuters find 2 trips a day (class 16: an event in each of the 16 waking hours), the sparse
    ones 1 a day on average (class 1: 15 active waking hours in 10 days), so the sparse class's detection rate
    is 0.5 (without shrinkage): each of their trips found counts twice, each dense one once. Every resident of
    A weighs 1000 ÷ 10 = 100."""
    monkeypatch.setattr(trip_detection, "PRIOR_DAYS", 0)
    got = cells(ws)
    for day in DAYS:
        both = day % 2 == 0  # the sparse commuters' trips are found on even days only
        want = (6, 6, 900.0, 900.0) if both else (3, 3, 300.0, 300.0)
        assert got[(f"2026-01-{day}", "A", "B")] == want
        assert got[(f"2026-01-{day}", "B", "A")] == want
    assert len(got) == 2 * len(DAYS)


def test_a_small_class_is_shrunk_towards_the_pooled_rate(ws):
    """With ``PRIOR_DAYS`` (1000) person-days at the pooled rate (90 trips ÷ 60 days) added to each class of 30
    person-days, the classes' rates are (60 + 1500) ÷ 1030 and (30 + 1500) ÷ 1030: the sparse ones' trips count
    1560 ÷ 1530 = 1.0196 times (a weight of 101.961, in thousandths)."""
    assert trip_detection.PRIOR_DAYS == 1000
    got = cells(ws)
    assert got[("2026-01-20", "A", "B")] == (6, 6, 605.9, 605.9)
    assert got[("2026-01-21", "A", "B")] == (3, 3, 300.0, 300.0)


def test_observed_trips_count_once(ws):
    got = ws.run("od-flows", method="observed").to_pandas()
    assert (got["trips_estimate"] == 100.0 * got["trips"]).all()


@settings(max_examples=40, deadline=None)
@given(events=st.lists(st.tuples(st.integers(0, 7), st.integers(0, 10 * DAY - 1)), min_size=1, max_size=120),
       trips=st.dictionaries(st.integers(0, 7), st.integers(0, 30)))
def test_detection_factors_lie_between_one_and_the_floor_and_are_one_for_the_best_class(events, trips):
    """Whatever the events and trips: every person seen in the window gets one factor, the same within a class,
    between 1 and 1 ÷ ``DETECTION_FLOOR``, and exactly 1 for the class of the highest (shrunk) trip rate."""
    con = duckdb.connect()
    con.register("events", pd.DataFrame(events, columns=["person", "t"]).assign(area_id="A"))
    con.register("calendar", pd.DataFrame({"day": range(2, 9)}))  # the window: days 2 to 8 of the ten
    con.register("found", pd.DataFrame(list(trips.items()), columns=["person", "trips"], dtype="int64"))
    got = con.sql(with_query(trip_detection.detection_ctes("found"), """
        SELECT d.person, c.activity, d.detection_factor AS factor
        FROM trip_detection d JOIN trip_classes c ON c.person = d.person""")).df()
    seen = {person for person, t in events if 2 <= t // DAY <= 8}
    assert sorted(got["person"]) == sorted(seen)
    assert got.groupby("activity")["factor"].nunique().eq(1).all()
    assert got["factor"].between(1.0, 1 / trip_detection.DETECTION_FLOOR + 1e-9).all()
    if len(got):
        assert got["factor"].min() == 1.0
