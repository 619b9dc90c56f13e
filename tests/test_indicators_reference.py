"""Each indicator against an independent pandas computation on small random data.

Events are given in UTC; the workspace is in Asia/Shanghai, so every local hour,
night and day boundary is exercised through the time-zone conversion.
"""

from __future__ import annotations

import datetime

import pandas as pd
import pytest

import reference as ref
import scenario

K = 2
FIRST, LAST = datetime.date(2026, 1, 20), datetime.date(2026, 2, 27)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    events = scenario.random_events(n_people=50, days=40, per_day=10, seed=7)
    ws = scenario.workspace(tmp_path_factory.mktemp("ref"), events, scenario.subscribers(50), k=K)
    return ws, ref.local_events(events)


def published(df: pd.DataFrame, count: str = "people") -> pd.DataFrame:
    return df[df[count] >= K].reset_index(drop=True)


def as_local_naive(series: pd.Series) -> pd.Series:
    return series.dt.tz_convert(scenario.TIMEZONE).dt.tz_localize(None).astype("datetime64[ns]")


def compare(actual: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
    actual = actual.sort_values(keys).reset_index(drop=True)
    expected = expected.sort_values(keys).reset_index(drop=True)[list(actual.columns)]
    assert len(actual) > 0
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False)


@pytest.mark.parametrize("level", ["district", "city"])
@pytest.mark.parametrize("carry", [0, 3])
def test_present_population(data, level, carry):
    ws, ev = data
    got = ws.run("present-population", date_from=FIRST, date_to=LAST, level=level, carry=carry,
                 method="observed").to_pandas()
    got["time"] = as_local_naive(got["time"])
    want = ref.present_population(ev, FIRST, LAST, level=level, carry_hours=carry).rename(columns={"bin": "time"})
    compare(got, published(want), ["time", "area_id"])


def test_present_population_half_hour_bins(data):
    ws, ev = data
    got = ws.run("present-population", date_from=FIRST, date_to=FIRST, bin="30min", method="observed").to_pandas()
    got["time"] = as_local_naive(got["time"])
    want = ref.present_population(ev, FIRST, FIRST, bin_minutes=30).rename(columns={"bin": "time"})
    compare(got, published(want), ["time", "area_id"])


def release_events(ev: pd.DataFrame, last: datetime.date) -> pd.DataFrame:
    """The events a release up to ``last`` reads: through the day after it (data start on FIRST)."""
    return ev[ev["local"].dt.date <= last + datetime.timedelta(days=1)]


@pytest.mark.parametrize(("level", "bin_minutes", "max_gap"), [("district", 60, 12), ("city", 30, 3)])
def test_present_population_from_stays(data, level, bin_minutes, max_gap):
    ws, ev = data
    got = ws.run("present-population", date_from=FIRST, date_to=LAST, level=level, bin=f"{bin_minutes}min",
                 max_gap=f"{max_gap}h").to_pandas()
    got["time"] = as_local_naive(got["time"])
    want = ref.present_population_from_stays(release_events(ev, LAST), FIRST, LAST, level=level,
                                             bin_minutes=bin_minutes, max_gap=max_gap * 3600)
    compare(got, published(want.rename(columns={"bin": "time"})), ["time", "area_id"])


@pytest.mark.parametrize("level", ["district", "province"])
def test_residents(data, level):
    ws, ev = data
    got = ws.run("residents", date_from=FIRST, date_to=LAST, level=level).to_pandas()
    compare(got, published(ref.residents(ev, FIRST, LAST, level=level)), ["period", "area_id"])


def test_residents_min_nights(data):
    ws, ev = data
    got = ws.run("residents", date_from=FIRST, date_to=LAST, min_nights=8).to_pandas()
    compare(got, published(ref.residents(ev, FIRST, LAST, minimum=8)), ["period", "area_id"])


def test_workers(data):
    ws, ev = data
    got = ws.run("workers", date_from=FIRST, date_to=LAST).to_pandas()
    compare(got, published(ref.workers(ev, FIRST, LAST)), ["period", "work_area_id", "home_area_id"])


@pytest.mark.parametrize("level", ["district", "city"])
def test_od_flows(data, level):
    ws, ev = data
    got = trips(ws.run("od-flows", date_from=FIRST, date_to=LAST, level=level, method="observed"))
    want = published(ref.od_flows(ev, FIRST, LAST, level=level), "travellers")
    compare(got, want, ["date", "origin", "destination"])


@pytest.mark.parametrize(("level", "max_gap"), [("district", 12), ("city", 2)])
def test_od_flows_from_stays(data, level, max_gap):
    ws, ev = data
    got = trips(ws.run("od-flows", date_from=FIRST, date_to=LAST, level=level, max_gap=f"{max_gap}h"))
    want = ref.od_flows_from_stays(release_events(ev, LAST), FIRST, LAST, level=level, max_gap=max_gap * 3600)
    compare(got, published(want, "travellers"), ["date", "origin", "destination"])


def trips(release) -> pd.DataFrame:
    got = release.to_pandas()
    got["date"] = pd.to_datetime(got["date"]).dt.date
    got["trips"] = pd.to_numeric(got["trips"])  # withheld values (dominance) are None → NaN
    return got


def test_migration_and_arrivals(data):
    ws, ev = data
    release = ws.run("migration", date_from=FIRST, date_to=LAST, min_nights=2)
    moves, arrivals = ref.migration(ev, FIRST, LAST, minimum=2)
    want = moves.groupby(["period_from", "period_to", "from_area", "to_area"]).size().rename("people").reset_index()
    compare(release.to_pandas("migration"), published(want), ["from_area", "to_area"])
    got_arrivals = release.to_pandas("arrivals")
    assert set(got_arrivals.columns) == {"period_from", "period_to", "to_area", "origin_region", "people"}
    assert got_arrivals["people"].sum() <= len(arrivals)
