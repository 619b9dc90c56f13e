"""Alerts: recall of planted changes and false alarms a year, beside the previous method.

Three kinds of seasonal series over three years (2023-2025) with mainland
China's public holidays, generated directly as published-cell tables (cells
of fewer than k = 15 people left out, as a k-mode release publishes them):

- travel: travellers per ISO week to each of 12 countries (60 to 3 000 a
  week; summer season, Spring Festival and Golden Week peaks, growth);
- presence: people per hour in 6 districts (business, residential and
  scenic day shapes; rest days and holidays change the shape);
- tourism: visitors per day in 10 areas (weekend and holiday peaks, summer).

Counts are Poisson around the pattern, with a few per cent of extra
variation per period. In the last two years each series gets two planted
changes, in turn +50 %, −50 %, +80 %, −80 % and −92 % (a collapse that
takes smaller series below k), lasting 6 weeks, 2 days or 10 days. Every
table goes through ``popflow.indicators.alerts.derive`` with the holidays,
and through the previous method (kept below for the comparison only).

A change is found when an alert in its direction falls in its first 2
weeks, 12 hours or 3 days. A false alarm is an alert in the last two years
outside every change and the recovery after it (4 weeks, 1 day, 7 days).

    python benchmarks/alerts_accuracy.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import datetime
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from popflow.indicators import time_axis
from popflow.indicators.alerts import derive
from popflow.indicators.params import Alerts
from popflow.synth.public_holidays import chinese_new_year

K = 15
TIMEZONE = "Asia/Shanghai"
FIRST, YEARS = datetime.date(2023, 1, 2), 3  # a Monday; 156 weeks
DAYS = pd.date_range(FIRST, periods=YEARS * 364, freq="D")
EVALUATED_FROM = FIRST + datetime.timedelta(days=364)
SIZES = (0.5, -0.5, 0.8, -0.8, -0.92)
EXTRA_VARIATION = 0.04


@dataclass(frozen=True)
class Change:
    key: str
    first_day: int  # index into DAYS
    days: float
    factor: float


@dataclass(frozen=True)
class Kind:
    """A kind of series: how long its changes last, how soon they must be found, how long they take to
    recover from; in days."""

    name: str
    indicator: str
    lasts: float
    grace: float
    recovery: float


TRAVEL = Kind("travel (weekly)", "outbound-travel", 42, 14, 28)
PRESENCE = Kind("presence (hourly)", "present-population", 2, 0.5, 1)
TOURISM = Kind("tourism (daily)", "tourism", 10, 3, 7)


class Published:
    """A release's published cells and manifest, as ``derive`` reads them."""

    def __init__(self, table: pa.Table, indicator: str, parameters: dict | None = None):
        self.table = table
        self.manifest = {"indicator": indicator, "privacy": {"mode": "k", "k": K},
                         "window": {"from": DAYS[0].date().isoformat(), "to": DAYS[-1].date().isoformat()},
                         "parameters": parameters or {}}


def holidays() -> pd.DataFrame:
    """Mainland China's public holidays 2022-2026, each day a row under its holiday's name."""
    rows = []
    for year in range(2022, 2027):
        spans = {"New Year": [(1, 1)], "Qingming": [(4, d) for d in (4, 5, 6)],
                 "Labour Day": [(5, d) for d in range(1, 6)], "National Day": [(10, d) for d in range(1, 8)]}
        rows += [(datetime.date(year, m, d), name) for name, days in spans.items() for m, d in days]
        new_year = chinese_new_year(year)
        rows += [(new_year + datetime.timedelta(days=o), "Spring Festival") for o in range(-1, 7)]
    return pd.DataFrame(rows, columns=["date", "name"])


HOLIDAYS = holidays()
HOLIDAY_NAME = {pd.Timestamp(d): n for d, n in zip(HOLIDAYS["date"], HOLIDAYS["name"], strict=True)}


def day_pattern(rng: np.random.Generator, holiday_lift: dict[str, float]) -> np.ndarray:
    """Per day: a summer season (random phase and depth), 10 % growth a year, and holiday lifts."""
    day_of_year = DAYS.day_of_year.to_numpy()
    season = 1 + rng.uniform(0.1, 0.3) * np.sin(2 * np.pi * (day_of_year - rng.uniform(60, 120)) / 365.25)
    growth = 1.1 ** (np.arange(len(DAYS)) / 365.25)
    lift = np.array([holiday_lift.get(HOLIDAY_NAME.get(d), 1.0) for d in DAYS])
    return season * growth * lift


def plant(rng: np.random.Generator, keys: list[str], kind: Kind, size_offset: int) -> list[Change]:
    """Two changes per series in the last two years, sizes in turn, on random Mondays 13 to 52 weeks apart."""
    changes, evaluated = [], (EVALUATED_FROM - FIRST).days
    for i, key in enumerate(keys):
        first = evaluated + 7 * int(rng.integers(4, 48))
        starts = (first, first + 7 * int(rng.integers(13, min(52, (len(DAYS) - 63 - first) // 7))))
        for j, start in enumerate(starts):
            size = SIZES[(size_offset + 2 * i + j) % len(SIZES)]
            changes.append(Change(key, int(start), kind.lasts, 1 + size))
    return changes


def change_factor(changes: list[Change], key: str, per_day: int = 1) -> np.ndarray:
    """Multiplier per slot of one series (``per_day`` slots a day)."""
    factor = np.ones(len(DAYS) * per_day)
    for c in changes:
        if c.key == key:
            start = c.first_day * per_day
            factor[start:start + int(c.days * per_day)] = c.factor
    return factor


def counts(rng: np.random.Generator, expected: np.ndarray) -> np.ndarray:
    return rng.poisson(expected * rng.lognormal(0, EXTRA_VARIATION, expected.shape))


def travel(rng: np.random.Generator, offset: int) -> tuple[Published, list[Change]]:
    keys = [f"C{i:02d}" for i in range(12)]
    changes = plant(rng, keys, TRAVEL, offset)
    lift = {"Spring Festival": 3.0, "National Day": 3.0, "Labour Day": 2.0, "Qingming": 1.3, "New Year": 1.5}
    week = np.arange(len(DAYS)) // 7
    labels = [f"{y}-W{w:02d}" for y, w, _ in (d.isocalendar() for d in DAYS[::7])]
    frames = []
    for key, level in zip(keys, np.geomspace(60, 3000, len(keys)), strict=True):
        daily = level / 7 * day_pattern(rng, lift) * change_factor(changes, key)
        weekly = counts(rng, np.bincount(week, daily))
        frames.append(pd.DataFrame({"week": labels, "destination_country": key, "travellers": weekly}))
    cells = pd.concat(frames)
    cells = cells[cells["travellers"] >= K].assign(trips=lambda c: c["travellers"])
    return Published(pa.Table.from_pandas(cells, preserve_index=False), TRAVEL.indicator), changes


HOURLY_SHAPES = {  # people at each hour of a work day and of a rest day, as a share of the peak
    "business": (np.r_[[0.1] * 7, 0.4, 0.8, [1.0] * 9, 0.6, 0.3, [0.15] * 4],
                 np.r_[[0.1] * 8, [0.3] * 12, [0.1] * 4]),
    "residential": (np.r_[[1.0] * 7, 0.7, 0.4, [0.3] * 9, 0.6, 0.9, [1.0] * 4],
                    np.r_[[1.0] * 9, [0.8] * 11, [1.0] * 4]),
    "scenic": (np.r_[[0.2] * 8, [0.4] * 10, [0.3] * 6], np.r_[[0.3] * 8, [1.0] * 10, [0.5] * 6]),
}


def presence(rng: np.random.Generator, offset: int) -> tuple[Published, list[Change]]:
    keys = [f"D{i:02d}" for i in range(6)]
    changes = plant(rng, keys, PRESENCE, offset)
    rest = np.array([d.weekday() >= 5 or d in HOLIDAY_NAME for d in DAYS])
    times = pd.date_range(DAYS[0], periods=len(DAYS) * 24, freq="h").tz_localize(TIMEZONE)
    frames = []
    for i, (key, level) in enumerate(zip(keys, np.geomspace(300, 3000, len(keys)), strict=True)):
        work, restful = HOURLY_SHAPES[list(HOURLY_SHAPES)[i % 3]]
        shape = np.where(rest[:, None], restful[None, :], work[None, :]).ravel()
        daily = np.repeat(day_pattern(rng, {}) ** 0.3, 24)
        expected = level * shape * daily * change_factor(changes, key, per_day=24)
        frames.append(pd.DataFrame({"time": times, "area_id": key, "people": counts(rng, expected)}))
    cells = pd.concat(frames)
    table = pa.Table.from_pandas(cells[cells["people"] >= K], preserve_index=False)
    return Published(table, PRESENCE.indicator, {"bin": 3600}), changes


def tourism(rng: np.random.Generator, offset: int) -> tuple[Published, list[Change]]:
    keys = [f"A{i:02d}|{t}|CN" for i in range(5) for t in ("domestic_overnight", "domestic_sameday")]
    changes = plant(rng, keys, TOURISM, offset)
    holiday = np.array([d in HOLIDAY_NAME for d in DAYS])  # everyone is off on a holiday, whatever the weekday
    weekday = np.where(holiday, 1.0, np.array([1.0, 0.9, 0.9, 1.0, 1.3, 1.8, 1.5])[DAYS.day_of_week])
    lift = {"Spring Festival": 2.0, "National Day": 3.0, "Labour Day": 2.5, "Qingming": 1.8, "New Year": 1.5}
    frames = []
    for key, level in zip(keys, np.geomspace(80, 800, len(keys)), strict=True):
        area, visitor_type, origin = key.split("|")
        expected = level * weekday * day_pattern(rng, lift) * change_factor(changes, key)
        frames.append(pd.DataFrame({"date": DAYS.strftime("%Y-%m-%d"), "area_id": area, "visitor_type": visitor_type,
                                    "origin": origin, "visitors": counts(rng, expected)}))
    cells = pd.concat(frames)
    cells = cells[cells["visitors"] >= K].assign(nights=lambda c: c["visitors"])
    return Published(pa.Table.from_pandas(cells, preserve_index=False), TOURISM.indicator), changes


def day_of(times: pd.Series, indicator: str) -> np.ndarray:
    """Fractional day index (into DAYS) of each alert's time."""
    if indicator == "present-population":
        stamps = pd.to_datetime(times.str[:19])
        return ((stamps - DAYS[0]) / pd.Timedelta(days=1)).to_numpy()
    if indicator == "outbound-travel":
        mondays = pd.to_datetime(times + "-1", format="%G-W%V-%u")
        return ((mondays - DAYS[0]) / pd.Timedelta(days=1)).to_numpy()
    return ((pd.to_datetime(times) - DAYS[0]) / pd.Timedelta(days=1)).to_numpy()


def judge(alerts: pd.DataFrame, changes: list[Change], kind: Kind, series: int) -> dict:
    """Changes found (by size) and false alarms per series per evaluated year."""
    day = day_of(alerts["time"], kind.indicator) if len(alerts) else np.array([])
    up = alerts["score"].to_numpy() > 0
    explained = np.zeros(len(alerts), bool)
    found = {}
    for c in changes:
        mine = (alerts["key"] == c.key).to_numpy()
        inside = mine & (day >= c.first_day) & (day < c.first_day + kind.grace)
        found.setdefault(c.factor - 1, []).append(bool((inside & (up == (c.factor > 1))).any()))
        explained |= mine & (day >= c.first_day) & (day < c.first_day + kind.lasts + kind.recovery)
    evaluated = day >= (EVALUATED_FROM - FIRST).days
    years = (len(DAYS) - (EVALUATED_FROM - FIRST).days) / 364
    return {"found": found, "false": int((evaluated & ~explained).sum()) / (series * years)}


# ---- The previous method, kept here only to compare with: median of the same slot in the previous four
# ---- periods, robust z-score, a point skipped when any of the four was suppressed.
PREVIOUS_HISTORY, PREVIOUS_THRESHOLD = 4, 3.5


def previous_alerts(published: Published, measure: str) -> pd.DataFrame:
    frame = published.table.to_pandas()
    time = next(c for c in ("time", "date", "week", "period", "month") if c in frame.columns)
    keys = [c for c in frame.columns if c not in (time, "currency") and not pd.api.types.is_numeric_dtype(frame[c])]
    cadence = time_axis.cadence_of(frame[time])
    lag = cadence.cycle
    frame = frame.assign(slot=time_axis.slots(frame[time], cadence))
    found = []
    for values, group in frame.groupby(keys):
        scored = _previous_score(group, time, measure, lag)
        found.append(scored.assign(key="|".join(map(str, values))))
    return pd.concat(found, ignore_index=True)


def _previous_score(group: pd.DataFrame, time: str, measure: str, lag: int) -> pd.DataFrame:
    values = dict(zip(group["slot"], group[measure].astype(float), strict=True))
    times = dict(zip(group["slot"], group[time], strict=True))
    rows = []
    for slot, value in values.items():
        history = [values.get(slot - lag * i) for i in range(1, PREVIOUS_HISTORY + 1)]
        if any(h is None for h in history):
            continue
        expected = float(np.median(history))
        mad = 1.4826 * float(np.median(np.abs(np.array(history) - expected)))
        spread = max(mad, 0.1 * expected, float(np.sqrt(max(expected, 0.0))), 1.0)
        score = (value - expected) / spread
        if abs(score) >= PREVIOUS_THRESHOLD:
            stamp = times[slot]
            rows.append({"time": stamp.isoformat() if hasattr(stamp, "isoformat") else str(stamp),
                         "score": score})
    return pd.DataFrame(rows, columns=["time", "score"])


# ---- Running and printing.

def run(seeds: int) -> dict:
    """Per kind: {method: {"found": {size: [bool]}, "false": [per series-year per seed]}}."""
    results = {}
    for kind, make, measure in ((TRAVEL, travel, "travellers"), (PRESENCE, presence, "people"),
                                (TOURISM, tourism, "visitors")):
        for seed in range(seeds):
            published, changes = make(np.random.default_rng(seed), seed)
            series = len({c.key for c in changes})
            new = derive(published, Alerts(indicator=kind.indicator), HOLIDAYS)["alerts"].to_pandas()
            old = previous_alerts(published, measure)
            for method, alerts in (("new", new), ("previous", old)):
                outcome = judge(alerts, changes, kind, series)
                entry = results.setdefault(kind.name, {}).setdefault(method, {"found": {}, "false": []})
                for size, hits in outcome["found"].items():
                    entry["found"].setdefault(round(size, 2), []).extend(hits)
                entry["false"].append(outcome["false"])
    return results


def recall(found: dict) -> float:
    hits = [h for size, values in found.items() if abs(size) >= 0.5 for h in values]
    return sum(hits) / len(hits)


def report(results: dict) -> None:
    print(f"{'series':<20}{'changes':>8}  {'recall, changes >= 50 %':>24}  {'false alarms / series / year':>30}")
    print(f"{'':<20}{'':>8}  {'new':>11}{'previous':>13}  {'new':>15}{'previous':>15}")
    for name, methods in results.items():
        n = sum(len(v) for v in methods["new"]["found"].values())
        print(f"{name:<20}{n:>8}  {recall(methods['new']['found']):>11.0%}{recall(methods['previous']['found']):>13.0%}"
              f"  {np.mean(methods['new']['false']):>15.2f}{np.mean(methods['previous']['false']):>15.2f}")
    print("\nrecall by size of change (new / previous):")
    for name, methods in results.items():
        sizes = sorted(methods["new"]["found"])
        parts = [f"{s:+.0%}: {np.mean(methods['new']['found'][s]):.0%} / {np.mean(methods['previous']['found'][s]):.0%}"
                 for s in sizes]
        print(f"  {name:<20}" + "   ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="independent scenarios of each kind")
    args = parser.parse_args()
    started = time.perf_counter()
    report(run(args.seeds))
    print(f"\n{args.seeds} seed(s), k = {K}, {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
