"""alerts: points of an indicator's published series that break their pattern.

Each series is one key (area, breakdown or destination) of the watched
indicator's main table and one measure (``--measure``, default its people
count). A value is compared with the same slot in the previous four periods:
the same hour of the week for hourly series (the four previous weeks), the
same weekday for daily series, and the four previous weeks, months or
periods otherwise. ``expected`` is their median and ``score`` the robust
z-score (value − median) ÷ (1.4826 × median absolute deviation), the
deviation floored at 10 % of the median, at its square root (the Poisson
noise of a count) and at 1, so that small or flat series do not alarm on
noise. Points with |score| ≥ ``--threshold`` are listed.
Alerts only read published cells, so they add no disclosure risk; a slot
that was suppressed is simply missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from popflow.indicators import Contribution, Indicator, register
from popflow.indicators.params import Alerts

TIME_COLUMNS = ("time", "date", "week", "period", "month", "period_to")
COUNT_COLUMNS = ("people", "visitors", "travellers", "buyers")
HISTORY = 4
MAD_TO_SIGMA = 1.4826


def define(p: Alerts) -> list[Contribution]:
    return []  # derived from the watched indicator's release, see ``derive``


def derive(release, p: Alerts) -> dict[str, pa.Table]:
    """The alerts table of a published release."""
    frame = release.table.to_pandas()
    time = next(c for c in TIME_COLUMNS if c in frame.columns)
    measure = p.measure or next(c for c in COUNT_COLUMNS if c in frame.columns)
    keys = [c for c in frame.columns
            if c not in (time, "currency") and not pd.api.types.is_numeric_dtype(frame[c])]
    frame = frame.dropna(subset=[measure]).assign(slot=_slots(frame[time]), lag=_lag(frame[time]))
    series = f"{release.manifest['indicator']}:{measure}"
    groups = frame.groupby(keys) if keys else [((), frame)]
    found = [_score(group, time, measure, p.threshold).assign(key=_key(values)) for values, group in groups]
    found = [f for f in found if len(f)]
    return {"alerts": _table(pd.concat(found, ignore_index=True) if found else None, series)}


def _slots(times: pd.Series) -> pd.Series:
    """A position on a regular axis: hours, days, ISO weeks or months since a fixed origin."""
    if pd.api.types.is_datetime64_any_dtype(times):
        return (times.dt.tz_localize(None) - pd.Timestamp("1970-01-05")) // pd.Timedelta(hours=1)
    text = times.astype(str)
    if text.str.contains("-W").all():
        year, week = text.str[:4].astype(int), text.str[-2:].astype(int)
        mondays = pd.to_datetime([f"{y}-W{w:02d}-1" for y, w in zip(year, week, strict=True)], format="%G-W%V-%u")
        return pd.Series((mondays - pd.Timestamp("1970-01-05")) // pd.Timedelta(days=7), index=times.index)
    if text.str.len().eq(7).all():
        return text.str[:4].astype(int) * 12 + text.str[5:7].astype(int)
    return (pd.to_datetime(text) - pd.Timestamp("1970-01-05")) // pd.Timedelta(days=1)


def _lag(times: pd.Series) -> int:
    """Slots between a point and the same slot one period earlier."""
    if pd.api.types.is_datetime64_any_dtype(times):
        return 24 * 7  # same hour of the week
    text = times.astype(str)
    if not text.str.contains("-W").all() and text.str.len().eq(10).all():
        return 7  # same weekday
    return 1


def _score(group: pd.DataFrame, time: str, measure: str, threshold: float) -> pd.DataFrame:
    values = dict(zip(group["slot"], group[measure].astype(float), strict=True))
    lag = int(group["lag"].iloc[0])
    rows = []
    for slot, value in values.items():
        history = [values.get(slot - lag * i) for i in range(1, HISTORY + 1)]
        if any(h is None for h in history):
            continue
        expected = float(np.median(history))
        mad = MAD_TO_SIGMA * float(np.median(np.abs(np.array(history) - expected)))
        spread = max(mad, 0.1 * expected, float(np.sqrt(max(expected, 0.0))), 1.0)
        score = (value - expected) / spread
        if abs(score) >= threshold:
            rows.append({"time": group.loc[group["slot"] == slot, time].iloc[0], "value": value,
                         "expected": expected, "score": round(score, 2)})
    return pd.DataFrame(rows, columns=["time", "value", "expected", "score"])


def _key(values) -> str:
    """The series key as text, e.g. ``D03`` or ``D03|F``."""
    return "|".join(map(str, values if isinstance(values, tuple) else (values,)))


def _table(alerts: pd.DataFrame | None, series: str) -> pa.Table:
    schema = pa.schema([("series", pa.string()), ("time", pa.string()), ("key", pa.string()),
                        ("value", pa.float64()), ("expected", pa.float64()), ("score", pa.float64())])
    if alerts is None or alerts.empty:
        return schema.empty_table()
    times = alerts["time"]
    text = times.map(lambda t: t.isoformat() if hasattr(t, "isoformat") else str(t))
    frame = pd.DataFrame({"series": series, "time": text, "key": alerts["key"], "value": alerts["value"],
                          "expected": alerts["expected"], "score": alerts["score"]})
    return pa.Table.from_pandas(frame.sort_values(["time", "key"]), schema=schema, preserve_index=False)


INDICATOR = register(Indicator(
    name="alerts",
    summary="points of any indicator's series that break their pattern (robust z-score vs previous 4 periods)",
    params=Alerts,
    define=define,
    description=__doc__,
    derive=derive,
))
