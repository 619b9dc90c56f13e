"""Outbound-travel section: top destinations with weekly sparklines, and high-spender destinations."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from popflow.place_names import country_name
from popflow.report.charts import sparkline
from popflow.report.inputs import (
    CHANGE_VS_PREV_4W,
    CHANGE_VS_PREV_YEAR,
    CURRENCY,
    DESTINATION_COUNTRY,
    PREMIUM_SHARE,
    SPEND_TOTAL,
    TRAVELLERS,
    TRIPS,
    WEEK,
    WITHHELD,
    ReportInputs,
    change_text,
    money_text,
    note,
    share_text,
)
from popflow.report.markup import Markup, el, fmt_number, join
from popflow.report.tables import html_table

TOP_DESTINATIONS = 10
TOP_SPENDERS = 10


def outbound_travel(inputs: ReportInputs) -> Markup | None:
    """Top destinations and high-spender destinations; None without an outbound-travel table."""
    df = inputs.frame("outbound-travel")
    if df is None:
        return None
    df = df.dropna(subset=[TRIPS])
    if df.empty:
        return note("No destination had enough travellers to publish.")
    weeks = week_range(df[WEEK].min(), df[WEEK].max())
    return join([
        el("p", f"Trips abroad per ISO week of departure, {weeks[0]} to {weeks[-1]} ({len(weeks)} weeks), "
                "by destination country. Totals are summed over published cells only."),
        top_destinations(df, weeks), high_spenders(df),
    ])


def week_range(first: str, last: str) -> list[str]:
    """Every ISO week from ``first`` to ``last`` (``YYYY-Www``), so that missing weeks show as gaps."""
    start = dt.date.fromisocalendar(int(first[:4]), int(first[-2:]), 1)
    end = dt.date.fromisocalendar(int(last[:4]), int(last[-2:]), 1)
    mondays = (start + dt.timedelta(weeks=i) for i in range((end - start).days // 7 + 1))
    return [f"{y}-W{w:02d}" for y, w, _ in (d.isocalendar() for d in mondays)]


def destination_name(code: object) -> str:
    """``France (FR)`` for a known country code, the code alone otherwise."""
    name = country_name(code)
    return str(code) if name == str(code) else f"{name} ({code})"


def latest_change(rows: pd.DataFrame, last_week: str) -> str:
    """The most recent published change against the same week a year earlier (its week when not ``last_week``)."""
    known = rows.dropna(subset=[CHANGE_VS_PREV_YEAR]).sort_values([WEEK, TRIPS])
    if known.empty:
        return change_text(None)
    last = known.iloc[-1]
    text = change_text(last[CHANGE_VS_PREV_YEAR])
    return text if last[WEEK] == last_week else f"{text} ({last[WEEK]})"


def latest_4w(rows: pd.DataFrame, last_week: str) -> str:
    """The change in the window's last week against the mean of the four weeks before it."""
    found = rows[rows[WEEK] == last_week].dropna(subset=[CHANGE_VS_PREV_4W]).sort_values(TRIPS)
    return change_text(found[CHANGE_VS_PREV_4W].iloc[-1] if len(found) else None)


def top_destinations(df: pd.DataFrame, weeks: list[str]) -> Markup:
    """The destinations with the most trips, a sparkline of their weekly trips and their latest changes."""
    totals = df.groupby(DESTINATION_COUNTRY)[TRIPS].sum().sort_values(ascending=False, kind="stable")
    rows = []
    for rank, (code, trips) in enumerate(totals.head(TOP_DESTINATIONS).items(), start=1):
        mine = df[df[DESTINATION_COUNTRY] == code]
        weekly = mine.groupby(WEEK)[TRIPS].sum().reindex(weeks)
        values = [None if pd.isna(v) else float(v) for v in weekly]
        line = sparkline(values, f"Weekly trips to {destination_name(code)}, {weeks[0]} to {weeks[-1]}")
        rows.append((rank, destination_name(code), int(trips), line, latest_change(mine, weeks[-1]),
                     latest_4w(mine, weeks[-1])))
    return join([
        el("h3", f"Top {len(rows)} destinations by trips"),
        html_table(("#", "Destination", "Trips", "Weekly trips", "vs a year earlier", "vs previous 4 weeks"), rows,
                   numeric=frozenset({0, 2, 4, 5})),
        note(f"Weekly trips from {weeks[0]} to {weeks[-1]}: each small line runs from the lowest to the highest "
             "weekly count of its destination, with breaks at weeks too small to publish. Changes are those of "
             f"{weeks[-1]} against the same week a year earlier and against the mean of the four weeks before it; "
             "a week in brackets marks the latest week with a comparison. “no comparison” means the earlier "
             "weeks were outside the data or too small to publish."),
    ])


def spend_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per destination and currency: travellers, mean spend per traveller and trip-weighted premium share."""
    df = df.assign(
        spent_by=df[TRAVELLERS].where(df[SPEND_TOTAL].notna()), spend_missing=df[SPEND_TOTAL].isna(),
        premium_trips=df[PREMIUM_SHARE] * df[TRIPS], premium_base=df[TRIPS].where(df[PREMIUM_SHARE].notna()))
    summed = df.groupby([DESTINATION_COUNTRY, CURRENCY]).agg(
        travellers=(TRAVELLERS, "sum"), spend=(SPEND_TOTAL, lambda s: s.sum(min_count=1)),
        spent_by=("spent_by", "sum"), partial=("spend_missing", "any"),
        premium_trips=("premium_trips", lambda s: s.sum(min_count=1)), premium_base=("premium_base", "sum"))
    summed["mean_spend"] = summed["spend"] / summed["spent_by"].where(summed["spent_by"] > 0)
    summed["premium"] = summed["premium_trips"] / summed["premium_base"].where(summed["premium_base"] > 0)
    return summed.reset_index()


def high_spenders(df: pd.DataFrame) -> Markup:
    """Destinations ranked by mean spend per traveller over the window, with their premium-cabin share."""
    summary = spend_summary(df)
    ranked = summary.dropna(subset=["mean_spend"]).sort_values("mean_spend", ascending=False, kind="stable")
    rows = [(rank, destination_name(r[DESTINATION_COUNTRY]), int(r["travellers"]),
             money_text(r["mean_spend"], r[CURRENCY]) + (" *" if r["partial"] else ""), share_text(r["premium"]))
            for rank, (_, r) in enumerate(ranked.head(TOP_SPENDERS).iterrows(), start=1)]
    withheld = summary[summary["mean_spend"].isna()]
    parts = [
        el("h3", "High-spender destinations"),
        html_table(("#", "Destination", "Travellers (sum of weekly counts)", "Mean spend per traveller",
                    "Premium-cabin share"), rows, numeric=frozenset({0, 2, 3, 4})),
        note("Mean spend per traveller = total spend ÷ travellers, both summed over the weeks whose spend was "
             "published; * marks destinations where some weeks' spend was withheld. Premium share counts "
             "premium, business and first cabins among trips."),
    ]
    if len(withheld):
        several = summary[CURRENCY].nunique() > 1
        names = ", ".join(sorted(destination_name(c) + (f" [{m}]" if several else "")
                                 for c, m in zip(withheld[DESTINATION_COUNTRY], withheld[CURRENCY], strict=True)))
        parts.append(note(f"Spend {WITHHELD} in every week (too few to show) for {fmt_number(len(withheld))} "
                          f"destination(s): {names}."))
    return join(parts)
