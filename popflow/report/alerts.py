"""Alerts section: published values that break their series' pattern, strongest first."""

from __future__ import annotations

import pandas as pd

from popflow.report.countries import country_name, is_country_code
from popflow.report.inputs import EXPECTED, KEY, SCORE, SERIES, TIME, VALUE, ReportInputs, note
from popflow.report.markup import MISSING, Markup, el, fmt_number, join
from popflow.report.tables import html_table

TOP_ALERTS = 30
DIRECTION, BELOW = "direction", "below"  # the alerts table's own columns
EXPLANATION = ("Expected: the same period a year earlier (median with the periods around it) scaled to the "
               "recent level, or the median of the same slot in the 4 previous periods without a year of "
               "history; public holidays are compared with the same holiday a year earlier. Score: (value − "
               "expected) ÷ the counting noise of the expected value widened by the series' own variation "
               "(1.4826 × its median absolute scaled deviation). “<k”: the value was suppressed, below k; its "
               "score is taken at k. Periods only partly covered by data are not scored.")


def alerts(inputs: ReportInputs) -> Markup | None:
    """Table of alerts in both directions, sorted by |score|; None without an alerts table."""
    df = inputs.frame("alerts")
    if df is None:
        return None
    if df.empty:
        return join([note("No published value broke its pattern."), note(EXPLANATION)])
    ranked = df.assign(strength=df[SCORE].abs()).sort_values("strength", ascending=False, kind="stable")
    rows = [(direction(r), series_name(r[SERIES]), str(r[TIME]).replace("T", " "), key_name(inputs, r[KEY]),
             value_text(r), r[EXPECTED], score_text(r[SCORE])) for _, r in ranked.head(TOP_ALERTS).iterrows()]
    more = len(ranked) - len(rows)
    return join([
        el("p", f"{fmt_number(len(ranked))} published value(s) broke their pattern"
                + (f"; the {len(rows)} strongest are shown." if more else ".")),
        html_table(("Direction", "Series", "Time", "Key", "Value", "Expected", "Score"), rows,
                   numeric=frozenset({4, 5, 6})),
        note(EXPLANATION),
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
