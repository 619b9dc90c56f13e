"""alerts on hand-made published-cell tables: censored values, covered periods, holidays, trends, roles."""

from __future__ import annotations

import datetime
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from popflow.indicators import time_axis
from popflow.indicators.alerts import SCHEMA, derive
from popflow.indicators.params import Alerts

import scenario

K = 15
MONDAY = datetime.date(2024, 1, 1)  # ISO week 2024-W01


class Published:
    """The published cells and manifest of a k-mode release, as ``derive`` reads them."""

    def __init__(self, table: pd.DataFrame, indicator: str, first: datetime.date, last: datetime.date,
                 parameters: dict | None = None):
        self.table = pa.Table.from_pandas(table, preserve_index=False)
        self.manifest = {"indicator": indicator, "privacy": {"mode": "k", "k": K}, "parameters": parameters or {},
                         "window": {"from": first.isoformat(), "to": last.isoformat()}}


def weeks(count: int, start: datetime.date = MONDAY) -> list[str]:
    mondays = [start + datetime.timedelta(weeks=i) for i in range(count)]
    return [f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}" for d in mondays]


def weekly(values: list[float | None], start: datetime.date = MONDAY, last: datetime.date | None = None,
           country: str = "KR") -> Published:
    """Weekly travellers to one country; None is a suppressed week (no published cell)."""
    rows = [(w, country, v) for w, v in zip(weeks(len(values), start), values, strict=True) if v is not None]
    table = pd.DataFrame(rows, columns=["week", "destination_country", "travellers"]).assign(
        trips=lambda t: t["travellers"])
    last = last or start + datetime.timedelta(weeks=len(values), days=-1)
    return Published(table, "outbound-travel", start, last)


def noisy(level: float, count: int, seed: int = 0) -> list[float]:
    return list(np.random.default_rng(seed).poisson(level, count).astype(float))


def alerts_of(release: Published, holidays: pd.DataFrame | None = None, **params) -> pd.DataFrame:
    return derive(release, Alerts(indicator=release.manifest["indicator"], **params), holidays)["alerts"].to_pandas()


def test_a_collapse_below_k_is_an_alert_down_with_its_value_below_k():
    values = noisy(60, 30) + [None] * 6  # 60 a week, then suppressed: fewer than k
    found = alerts_of(weekly(values))
    first = found.iloc[0]
    assert first["time"] == weeks(31)[30] and first["direction"] == "down" and first["score"] < 0
    assert np.isnan(first["value"]) and first["below"] == K  # never the exact count
    assert set(found["time"]) <= set(weeks(36)[30:]) and (found["direction"] == "down").all()


def test_suppressed_weeks_in_the_history_are_censored_not_skipped():
    values = noisy(22, 30, seed=1)  # near k: a suppressed week is no break
    values[27] = None  # one suppressed week among the four before the jump
    values[29] = 60.0
    found = alerts_of(weekly(values))
    assert list(found["time"]) == [weeks(30)[29]] and found["direction"][0] == "up"


def test_more_than_one_censored_value_in_the_history_is_not_enough_history():
    values = noisy(22, 30, seed=1)
    values[26] = values[27] = None
    values[29] = 60.0
    assert alerts_of(weekly(values)).empty


def test_partial_first_and_last_weeks_are_not_scored():
    values = noisy(100, 20, seed=3)
    values[-1] = 14.0  # the last week holds one day of data: one seventh of a week
    window_last = MONDAY + datetime.timedelta(weeks=19)  # its Monday only
    assert alerts_of(weekly(values, last=window_last)).empty
    values[0] = 14.0  # the first week starts on its Sunday
    late_start = weekly(values, last=window_last)
    late_start.manifest["window"]["from"] = (MONDAY + datetime.timedelta(days=6)).isoformat()
    assert alerts_of(late_start).empty
    full = weekly(values[:-1] + [14.0])
    assert weeks(20)[-1] in set(alerts_of(full)["time"])  # a whole week that low is an alert


def test_the_first_and_last_published_bins_are_not_scored():
    start = pd.Timestamp("2026-01-05", tz=scenario.TIMEZONE)
    level = 100 + 50 * np.sin(np.arange(168) / 24 * 2 * np.pi)
    values = np.concatenate([np.random.default_rng(4).poisson(level) for _ in range(6)]).astype(float)
    values[-1] = 3.0  # data ended a few minutes into the last bin
    times = [start + pd.Timedelta(hours=i) for i in range(len(values))]
    table = pd.DataFrame({"time": times, "area_id": "A", "people": values})
    last = times[-1].date()
    release = Published(table, "present-population", times[0].date(), last, {"bin": 3600})
    assert alerts_of(release).empty


def holidays_table(years: range) -> pd.DataFrame:
    """A spring festival of eight days that moves from year to year, and a fixed national week."""
    from popflow.synth.public_holidays import chinese_new_year

    rows = []
    for year in years:
        rows += [(chinese_new_year(year) + datetime.timedelta(days=d), "Spring Festival") for d in range(-1, 7)]
        rows += [(datetime.date(year, 10, d), "National Day") for d in range(1, 8)]
    return pd.DataFrame(rows, columns=["date", "name"])


def holiday_weeks(count: int, holidays: pd.DataFrame, lift: float, seed: int = 5) -> list[float]:
    """Weekly travellers: 200 a week, each holiday day of a week bringing ``lift`` times a day's travellers."""
    days = pd.to_datetime(holidays["date"]).dt.date
    rng = np.random.default_rng(seed)
    values = []
    for week in range(count):
        monday = MONDAY + datetime.timedelta(weeks=week)
        held = sum(monday <= d < monday + datetime.timedelta(days=7) for d in days)
        values.append(float(rng.poisson(200 / 7 * (7 - held + held * lift))))
    return values


def test_a_holiday_week_is_compared_with_the_same_holiday_a_year_earlier():
    holidays = holidays_table(range(2023, 2027))
    values = holiday_weeks(130, holidays, lift=3.0)
    days = {time_axis.day_number(d) for d in pd.to_datetime(holidays["date"]).dt.date}
    first = time_axis.day_number(MONDAY)
    festive = {w for i, w in enumerate(weeks(130)) if any(first + 7 * i + d in days for d in range(7))}
    assert not set(alerts_of(weekly(values), holidays)["time"]) & festive
    assert set(alerts_of(weekly(values))["time"]) & festive  # without the holidays, their weeks look like breaks
    spring_2025 = (time_axis.day_number(datetime.date(2025, 1, 29)) - first) // 7
    values[spring_2025] /= 3  # travel collapses in the festival week itself
    found = alerts_of(weekly(values), holidays).set_index("time")
    assert found.loc[weeks(130)[spring_2025], "direction"] == "down"


def test_a_series_with_a_trend_raises_no_alert():
    level = 100 * 1.02 ** np.arange(104)  # 2 % more every week, about 2.8 times in a year
    values = list(np.random.default_rng(6).poisson(level).astype(float))
    assert alerts_of(weekly(values)).empty


def test_seasonal_swings_are_expected_after_a_year():
    week = np.arange(156)
    level = 300 * (1 + 0.4 * np.sin(2 * np.pi * week / 52))
    values = list(np.random.default_rng(7).poisson(level).astype(float))
    assert not set(alerts_of(weekly(values))["time"]) & set(weeks(156)[52:])


def daily_table(indicator: str) -> tuple[pd.DataFrame, str]:
    """A year of daily cells in the watched indicator's columns, with a jump on 2024-10-01."""
    days = pd.date_range("2024-01-01", "2024-12-31")
    level = np.where(days >= pd.Timestamp("2024-10-01"), 400.0, 200.0)
    values = np.random.default_rng(8).poisson(level).astype(float)
    text = days.strftime("%Y-%m-%d")
    if indicator == "tourism":
        return pd.DataFrame({"date": text, "area_id": "A", "visitor_type": "international", "origin": "KR",
                             "visitors": values, "nights": values}), "A|international|KR"
    return pd.DataFrame({"date": text, "origin": "A", "destination": "B", "trips": values * 2,
                         "travellers": values}), "A|B"


@pytest.mark.parametrize("indicator", ["tourism", "od-flows"])
def test_daily_series_are_read_from_the_declared_roles(indicator):
    table, key = daily_table(indicator)
    found = alerts_of(Published(table, indicator, datetime.date(2024, 1, 1), datetime.date(2024, 12, 31)))
    assert found.iloc[0]["time"] == "2024-10-01" and found.iloc[0]["key"] == key
    assert found.iloc[0]["series"] == f"{indicator}:{'visitors' if indicator == 'tourism' else 'travellers'}"


@pytest.mark.parametrize("indicator, time, key, people", [
    ("residents", "period", "area_id", "people"), ("sales-penetration", "month", "region_id", "buyers")])
def test_monthly_series_are_read_from_the_declared_roles(indicator, time, key, people):
    months = [f"{y}-{m:02d}" for y in (2023, 2024) for m in range(1, 13)]
    values = list(np.random.default_rng(9).poisson(500, 24).astype(float))
    values[20] = 200.0
    table = pd.DataFrame({time: months, key: "R1", people: values, "potential": 9000.0})
    found = alerts_of(Published(table, indicator, datetime.date(2023, 1, 1), datetime.date(2024, 12, 31)))
    assert list(found["time"]) == ["2024-09"] and found["direction"][0] == "down"


def test_hourly_presence_is_compared_hour_of_week():
    start = pd.Timestamp("2026-01-05", tz=scenario.TIMEZONE)
    hour_of_week = np.arange(168 * 8) % 168
    level = np.where((hour_of_week % 24 >= 9) & (hour_of_week % 24 < 18) & (hour_of_week < 120), 800, 100)
    values = np.random.default_rng(10).poisson(level).astype(float)
    values[7 * 168 + 10: 7 * 168 + 14] /= 2  # Monday 10:00-13:00 of the eighth week
    times = [start + pd.Timedelta(hours=i) for i in range(len(values))]
    table = pd.DataFrame({"time": times, "area_id": "D1", "people": values})
    release = Published(table, "present-population", times[0].date(), times[-1].date(), {"bin": 3600})
    found = alerts_of(release)
    assert list(found["time"]) == [t.isoformat() for t in times[7 * 168 + 10: 7 * 168 + 14]]


def test_no_alert_keeps_the_schema():
    empty = alerts_of(weekly([100.0] * 3))
    assert empty.empty and pa.Schema.from_pandas(empty, preserve_index=False).names == SCHEMA.names


def test_a_week_holding_fewer_holiday_dates_than_last_years_is_matched_by_its_share():
    holidays = pd.DataFrame({"date": [datetime.date(2024, 5, d) for d in range(1, 6)]
                             + [datetime.date(2025, 5, d) for d in range(1, 6)], "name": "Labour Day"})
    numbers = np.array([time_axis.day_number(datetime.date(2025, 4, 28)) // 7,
                        time_axis.day_number(datetime.date(2025, 5, 5)) // 7])
    cadence = time_axis.Cadence("week", 0, 1, 52, 2, 52.18)
    matches, weights = time_axis.holiday_matches(numbers, cadence, holidays)
    week_2024 = time_axis.day_number(datetime.date(2024, 4, 29)) // 7  # 1-5 May 2024: all in one week
    assert list(matches) == [week_2024, week_2024] and list(weights) == [4 / 5, 1 / 5]


def benchmark():
    path = Path(__file__).parents[1] / "benchmarks" / "alerts_accuracy.py"
    spec = importlib.util.spec_from_file_location("alerts_accuracy", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_counts_found_changes_and_false_alarms():
    bench = benchmark()
    first = (bench.EVALUATED_FROM - bench.FIRST).days + 70
    changes = [bench.Change("C01", first, 42, 0.5), bench.Change("C02", first, 42, 1.8)]
    alerts = pd.DataFrame({
        "time": [f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}" for d in
                 (bench.DAYS[first], bench.DAYS[first + 7], bench.DAYS[first], bench.DAYS[first + 140],
                  bench.DAYS[10])],
        "key": ["C01", "C01", "C02", "C02", "C03"],
        "score": [-5.0, -4.0, -3.5, 4.0, 6.0],
    })
    outcome = bench.judge(alerts, changes, bench.TRAVEL, series=3)
    assert outcome["found"] == {-0.5: [True], 0.8: [False]}  # C02's alert went the wrong way
    years = (len(bench.DAYS) - (bench.EVALUATED_FROM - bench.FIRST).days) / 364
    assert outcome["false"] == pytest.approx(1 / (3 * years))  # C02 20 weeks on; C03 is before the evaluated years


def test_the_benchmarks_previous_method_skips_a_point_with_a_suppressed_week_before_it():
    bench = benchmark()
    values = [100.0] * 10 + [None] + [100.0] * 3 + [20.0]
    release = weekly(values)
    assert bench.previous_alerts(release, "travellers").empty
    assert list(alerts_of(release)["time"]) == [weeks(15)[10], weeks(15)[14]]  # below k from 100, then 20


def test_holidays_are_ingested_as_a_source_of_dates_and_names(tmp_path):
    ws = scenario.workspace_without_events(tmp_path)
    path = tmp_path / "holidays.csv"
    path.write_text("date,name\n2025-01-28,Spring Festival\n2025-01-29,Spring Festival\n2025-10-01,National Day\n"
                    "2025-01-29,Lantern\n,Unnamed\n2025-13-01,Nowhere\n")
    report = ws.ingest("holidays", [path])
    assert report["rows"] == {"read": 6, "accepted": 3, "quarantined": 3}
    assert report["quarantined_by_reason"] == {"duplicate_key": 1, "missing_field": 1, "unparsable_time": 1}
    table = ws.connect().sql("SELECT date, name FROM holidays ORDER BY date").df()
    assert table["name"].tolist() == ["Spring Festival", "Spring Festival", "National Day"]
