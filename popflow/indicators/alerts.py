"""alerts: points of an indicator's published series that break their seasonal pattern.

A series is one key of the watched indicator's main table (its keys other
than the time key, as the indicator declares them) and one measure
(``--measure``, default the indicator's people count), over the time key's
slots: bins, dates, ISO weeks or months. A cycle is a week of bins or dates,
or one week or month; a slot's season is its place in the cycle (hour of
the week, weekday) and in the year.

Censored values. In k mode a cell that is not published holds fewer than k
people, so in every covered slot a series without a cell has a value in
[0, k) for its people count (for a summed count such as trips: below k ×
the series' median count per person). Other measures of a missing cell, and
missing cells in dp mode, are unknown.

Covered slots. A point is scored only when its whole period lies in the
release window (the manifest's ``window``: the requested dates clipped to
the days that hold ingested data); bins must also lie strictly between the
release's first and last published bin, as data can begin or end inside a
day (the last one counts when the manifest says ``last_bin_final``, as the
live view's closed bins are). Slots outside are neither scored, nor
censored, nor history.

Expected value, from earlier points only (each cycle is scored in time
order):

- recent baseline: the median of the same slot in the four most recent
  earlier cycles within 13 that are not holidays and did not change, at
  least three of them published (a censored value sorts lowest, so the
  median never depends on its size); a change that has lasted four cycles
  is the new level, and the baseline takes its values until the slot
  changes again;
- with an earlier year in which the slot was steady (it, and the same slot
  a cycle before and after, did not change): the median of that year's
  same slot and the two cycles either side (for months: the same month),
  holidays left out, times the level ratio: over the last 13 cycles, the
  published values that did not change and whose slot that year is
  usable too, summed, ÷ the sum of those earlier values (three cycles'
  worth needed). The latest such year counts; without one, the recent
  baseline;
- holidays (an ingested ``holidays`` table of date and name) are their own
  season: a bin, date or week on a holiday is expected at the value of the
  same holiday a year earlier (same name, same position among its dates)
  times the level ratio; a week holding a different number of holiday dates
  than last year's week scales last year's holiday extra (over that week's
  ordinary expectation) by the ratio of the numbers. A holiday without a
  steady reference is not scored. Travel days around a holiday are part of
  its season when the table lists them under its name.

Changed points (alerts, and the unscored points that follow an alert within
four cycles with none scored between) take no part in the baselines, level
ratios and references of later points, as outbreaks are kept out of a
surveillance baseline. While last year's comparison stands, a lasting
change therefore stays an alert (up to 13 cycles).

Score: (value − expected) ÷ (s × √(expected + (5 % of expected)²)), the
counting noise plus a little unmodelled variation, times √2 on holidays (a
single reference value), widened by s: 1.4826 × the median absolute scaled
deviation of the series' earlier scored ordinary points over the last 52
slots (and at least four cycles), at least 1; six such points are needed. A
censored point is scored at its upper bound, the least extreme value it
can have, so it is an alert ``down`` only when even the bound is far below
what was expected. An alert is a point whose |score| reaches ``--threshold``
in a daily series; other cadences use the score with as many false alarms
a year under normal noise (hourly series need more, weekly and monthly
series less). Minimum usable history: four earlier cycles of the slot, and
six points with an expected value in earlier cycles (so hourly and daily
series are scored from their sixth week, weekly ones from their eleventh).

Output, one row per alert: ``series`` (indicator:measure), ``time``,
``key`` (key values joined by ``|``), ``value`` (empty for a censored
point), ``below`` (for a censored point, the bound its value lies under: k
for a people count; else empty), ``expected``, ``score``, ``direction``
(``up`` or ``down``). Alerts read only published cells and the release's k,
so they add no disclosure risk: a suppressed count is never known or shown.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from popflow import indicators
from popflow.indicators import Contribution, Indicator, register, time_axis
from popflow.indicators.params import Alerts
from popflow.indicators.seasonal import Grid, Scored, score, threshold_for
from popflow.indicators.time_axis import Cadence

SCHEMA = pa.schema([("series", pa.string()), ("time", pa.string()), ("key", pa.string()), ("value", pa.float64()),
                    ("below", pa.float64()), ("expected", pa.float64()), ("score", pa.float64()),
                    ("direction", pa.string())])


def define(p: Alerts) -> list[Contribution]:
    return []  # derived from the watched indicator's release, see ``derive``


def derive(release, p: Alerts, holidays: pd.DataFrame | None = None) -> dict[str, pa.Table]:
    """The alerts table of a published release, given the public holidays (date, name) if any."""
    manifest = release.manifest
    roles = indicators.get(manifest["indicator"]).series_roles()
    frame = release.table.to_pandas()
    measure = p.measure or roles.people
    if frame.empty or measure not in frame.columns:
        return {"alerts": SCHEMA.empty_table()}
    keys = [k for k in roles.keys if k in frame.columns]
    cadence = time_axis.cadence_of(frame[roles.time], manifest.get("parameters", {}).get("bin"))
    frame = frame.assign(slot=time_axis.slots(frame[roles.time], cadence), key=_key_text(frame, keys))
    grid, numbers = _grid(frame, roles, measure, cadence, manifest, holidays)
    threshold = threshold_for(p.threshold, cadence)
    found = _alerts(frame, roles.time, grid, score(grid, threshold), numbers, threshold)
    table = found.assign(series=f"{manifest['indicator']}:{measure}").sort_values(["time", "key"])[SCHEMA.names]
    return {"alerts": pa.Table.from_pandas(table, schema=SCHEMA, preserve_index=False)}


def _alerts(frame: pd.DataFrame, time: str, grid: Grid, found: Scored, numbers: np.ndarray,
            threshold: float) -> pd.DataFrame:
    """One row per point whose |score| reaches the threshold."""
    series, j = np.nonzero(np.abs(np.nan_to_num(found.score)) >= threshold)
    censored = grid.censored[series, j]
    scores = found.score[series, j]
    return pd.DataFrame({
        "time": _labels(frame, time, numbers[j], grid.cadence),
        "key": np.array(sorted(frame["key"].unique()), dtype=object)[series],
        "value": np.where(censored, np.nan, grid.x[series, j]),
        "below": np.where(censored, grid.bound[series], np.nan),
        "expected": found.expected[series, j].round(2),
        "score": scores.round(2),
        "direction": np.where(scores > 0, "up", "down"),
    })


def _key_text(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """The series key as text, e.g. ``D03`` or ``D03|F``."""
    text = pd.Series("", index=frame.index) if not keys else frame[keys[0]].astype(str)
    for key in keys[1:]:
        text = text + "|" + frame[key].astype(str)
    return text


def _grid(frame: pd.DataFrame, roles, measure: str, cadence: Cadence, manifest: dict,
          holidays: pd.DataFrame | None) -> tuple[Grid, np.ndarray]:
    """The release's series on whole cycles of slots over its window (bins: its published ones)."""
    window = _window_days(manifest, frame, cadence)
    first, last = _span(frame["slot"], cadence, window)
    first, end = first // cadence.cycle * cadence.cycle, -(-(last + 1) // cadence.cycle) * cadence.cycle
    numbers = np.arange(first, end)
    cells = frame.pivot_table(index="key", columns="slot", values=roles.time, aggfunc="size")
    exists = cells.reindex(columns=numbers).notna().to_numpy()
    values = frame.pivot_table(index="key", columns="slot", values=measure, aggfunc="first", dropna=False)
    values = values.reindex(columns=numbers).to_numpy(float)
    last = frame["slot"].max() + (1 if manifest.get("last_bin_final") else 0)
    inside = time_axis.covered(numbers, cadence, *window, (frame["slot"].min(), last))
    bound = _bounds(frame, roles, measure, manifest)
    published = np.isfinite(values) & inside
    censored = ~exists & inside & np.isfinite(bound)[:, None]
    x = np.where(published, values, np.where(censored, bound[:, None] / 2, np.nan))
    matches, weights = time_axis.holiday_matches(numbers, cadence, holidays)
    index = np.where((matches >= first) & (matches < end), matches - first, -1)
    return Grid(x, published, censored, bound, inside, matches != -1, index, weights, cadence), numbers


def _window_days(manifest: dict, frame: pd.DataFrame, cadence: Cadence) -> tuple[int, int]:
    """First and last day of the release window (the published slots' days when the manifest has none)."""
    window = manifest.get("window")
    if window:
        return tuple(time_axis.day_number(datetime.date.fromisoformat(window[e])) for e in ("from", "to"))
    start, end = time_axis.slot_days(np.array([frame["slot"].min(), frame["slot"].max()]), cadence)
    return int(start[0]), int(end[1])


def _span(published: pd.Series, cadence: Cadence, window: tuple[int, int]) -> tuple[int, int]:
    """First and last slot of the grid: the published ones, widened to the window's days but for bins."""
    if cadence.kind == "bin":
        return int(published.min()), int(published.max())
    return (min(int(published.min()), time_axis.slot_of_day(window[0], cadence)),
            max(int(published.max()), time_axis.slot_of_day(window[1], cadence)))


def _bounds(frame: pd.DataFrame, roles, measure: str, manifest: dict) -> np.ndarray:
    """Per series (sorted keys), the bound a suppressed cell's value lies under; NaN when unknown.

    k for the people count; k × the series' median ratio to people for a
    summed count; unknown for other measures and outside k mode.
    """
    k = manifest.get("privacy", {}).get("k")
    keys = sorted(frame["key"].unique())
    if k is None or measure not in roles.counts:
        return np.full(len(keys), np.nan)
    if measure == roles.people:
        return np.full(len(keys), float(k))
    ratio = (frame[measure] / frame[roles.people]).groupby(frame["key"]).median()
    return k * ratio.reindex(keys).fillna(1.0).clip(lower=1.0).to_numpy(float)


def _labels(frame: pd.DataFrame, time: str, numbers: np.ndarray, cadence: Cadence) -> list[str]:
    """Slots as the release writes them (bins as ISO 8601 with the local UTC offset)."""
    written = frame.drop_duplicates("slot").set_index("slot")[time]
    zone = str(frame[time].dt.tz) if cadence.kind == "bin" and frame[time].dt.tz is not None else None
    return [_text(written[n]) if n in written.index else time_axis.label(n, cadence, zone) for n in numbers]


def _text(time) -> str:
    return time.isoformat() if hasattr(time, "isoformat") else str(time)


INDICATOR = register(Indicator(
    name="alerts",
    summary="points of any indicator's series that break their seasonal pattern (censored cells as below k; "
            "holidays as their own season)",
    params=Alerts,
    define=define,
    description=__doc__,
    derive=derive,
    reads=("holidays",),
))
