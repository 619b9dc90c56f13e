"""Alerts section: published values that break their series' pattern, strongest first."""

from __future__ import annotations

import pandas as pd

from popflow import indicators
from popflow.errors import PopflowError
from popflow.place_names import country_name, is_country_code
from popflow.report.charts import AlertPoint, alert_chart
from popflow.report.inputs import EXPECTED, KEY, SCORE, SERIES, TIME, VALUE, ReportInputs, note
from popflow.report.markup import MISSING, Markup, el, fmt_number, join
from popflow.report.tables import html_table

TOP_ALERTS = 30
BEFORE, AFTER = 8, 4  # periods of the series drawn before and after an alert's point
DIRECTION, BELOW = "direction", "below"  # the alerts table's own columns
EXPLANATION = ("Expected: the same period a year earlier (median with the periods around it) scaled to the "
               "recent level, or the median of the same slot in the 4 previous periods without a year of "
               "history; public holidays are compared with the same holiday a year earlier. Score: (value − "
               "expected) ÷ the counting noise of the expected value widened by the series' own variation "
               "(1.4826 × its median absolute scaled deviation). “<k”: the value was suppressed, below k; its "
               "score is taken at k. Periods only partly covered by data are not scored.")
CHART_NOTE = (f"Around the point: the series' published values up to {BEFORE} periods before and {AFTER} after "
              "(gaps: not published), the expected value as a bar and the alert's value as a dot; a suppressed "
              "value is a ring on the dashed k line, marked “<k”.")


def alerts(inputs: ReportInputs) -> Markup | None:
    """Table of alerts in both directions, sorted by |score|; None without an alerts table."""
    df = inputs.frame("alerts")
    if df is None:
        return None
    if df.empty:
        return join([note("No published value broke its pattern."), note(EXPLANATION)])
    ranked = df.assign(strength=df[SCORE].abs()).sort_values("strength", ascending=False, kind="stable")
    watched = WatchedSeries(inputs)
    rows = [(direction(r), series_name(r[SERIES]), str(r[TIME]).replace("T", " "), key_name(inputs, r[KEY]),
             value_text(r), r[EXPECTED], score_text(r[SCORE]), watched.chart(r))
            for _, r in ranked.head(TOP_ALERTS).iterrows()]
    more = len(ranked) - len(rows)
    return join([
        el("p", f"{fmt_number(len(ranked))} published value(s) broke their pattern"
                + (f"; the {len(rows)} strongest are shown." if more else ".")),
        html_table(("Direction", "Series", "Time", "Key", "Value", "Expected", "Score", "Around the point"), rows,
                   numeric=frozenset({4, 5, 6})),
        note(EXPLANATION + " " + CHART_NOTE),
    ])


def direction(row: pd.Series) -> Markup:
    """An arrow saying whether the value was above or below what was expected."""
    way = row.get(DIRECTION)
    if not isinstance(way, str):
        way = None if pd.isna(row[SCORE]) else "up" if row[SCORE] > 0 else "down"
    if way is None:
        return Markup(MISSING)
    return el("span", "▲ above", class_="up") if way == "up" else el("span", "▼ below", class_="down")


def value_text(row: pd.Series) -> str:
    """The published value, or “<k” for a suppressed one."""
    below = row.get(BELOW)
    if pd.isna(row[VALUE]) and below is not None and not pd.isna(below):
        return f"<{fmt_number(below)}"
    return fmt_number(row[VALUE])


def score_text(score: float) -> str:
    """A signed score with one decimal."""
    return MISSING if pd.isna(score) else f"{score:+.1f}"


def series_name(series: object) -> str:
    """``outbound-travel:trips`` → ``outbound-travel › trips``."""
    return " › ".join(str(series).split(":", 1))


def key_name(inputs: ReportInputs, key: object) -> str:
    """A series key for readers: area ids as names, country codes as country names, parts joined by ' · '."""
    def part_name(part: str) -> str:
        if part in inputs.areas:
            return inputs.name(part)
        return f"{country_name(part)} ({part})" if is_country_code(part) else part
    return " · ".join(part_name(p) for p in str(key).split("|"))


class WatchedSeries:
    """The published series an alert was found in, read from the watched indicator's table when the report has it."""

    def __init__(self, inputs: ReportInputs):
        self.inputs = inputs
        self.tables: dict[str, pd.DataFrame | None] = {}

    def chart(self, row: pd.Series) -> object:
        """The alert's small chart (the point and expected value alone when its series is not in the report)."""
        times, values = self.around(row)
        value = None if pd.isna(row[VALUE]) else float(row[VALUE])
        below = row.get(BELOW)
        point = AlertPoint(values, times.index(str(row[TIME])), _number(row[EXPECTED]), value,
                           _number(below), row.get(DIRECTION) or ("up" if row[SCORE] > 0 else "down"))
        label = (f"{series_name(row[SERIES])}, {key_name(self.inputs, row[KEY])}: {times[0]} to {times[-1]}; "
                 f"at {row[TIME]} {value_text(row)}, expected {fmt_number(row[EXPECTED])}")
        return alert_chart(point, label)

    def around(self, row: pd.Series) -> tuple[list[str], list[float | None]]:
        """Periods around the alert's (the watched table's, and the alert's own) and the series' values in them."""
        indicator, _, measure = str(row[SERIES]).partition(":")
        series = self.series(indicator, measure, str(row[KEY]))
        periods = sorted({*self.periods(indicator), str(row[TIME])})
        at = periods.index(str(row[TIME]))
        shown = periods[max(0, at - BEFORE):at + AFTER + 1]
        values = [series.get(t) for t in shown]
        if str(row[TIME]) in series and pd.isna(row[VALUE]):
            values[shown.index(str(row[TIME]))] = None
        return shown, values

    def frame(self, indicator: str) -> pd.DataFrame | None:
        """The watched indicator's table with ``period`` and ``key`` as the alerts module writes them."""
        if indicator not in self.tables:
            self.tables[indicator] = _keyed(self.inputs.frame(indicator), indicator)
        return self.tables[indicator]

    def periods(self, indicator: str) -> list[str]:
        found = self.frame(indicator)
        return [] if found is None else list(found["_period"].unique())

    def series(self, indicator: str, measure: str, key: str) -> dict[str, float]:
        found = self.frame(indicator)
        if found is None or measure not in found.columns:
            return {}
        rows = found[(found["_key"] == key) & found[measure].notna()]
        return dict(zip(rows["_period"], rows[measure].astype(float), strict=True))


def _keyed(frame: pd.DataFrame | None, indicator: str) -> pd.DataFrame | None:
    """A table with its series key and period as text, from the indicator's declared series roles."""
    try:
        roles = indicators.get(indicator).series_roles()
    except (PopflowError, IndexError):
        return None
    if frame is None or roles.time not in frame.columns:
        return None
    keys = [k for k in roles.keys if k in frame.columns]
    key = frame[keys[0]].astype(str) if keys else pd.Series("", index=frame.index)
    for column in keys[1:]:
        key = key + "|" + frame[column].astype(str)
    period = frame[roles.time].map(lambda t: t.isoformat() if hasattr(t, "isoformat") else str(t))
    return frame.assign(_key=key, _period=period)


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
