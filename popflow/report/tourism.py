"""Tourism section: daily visitors by visitor type, overnight stays per area and the top origins."""

from __future__ import annotations

import math

import pandas as pd

from popflow.columns import AREA_ID, DATE
from popflow.place_names import country_name
from popflow.report.charts import Series, legend, line_chart
from popflow.report.inputs import (
    NIGHTS,
    ORIGIN,
    TOO_FEW,
    VISITOR_TYPE,
    VISITORS,
    ReportInputs,
    no_geometry,
    note,
    published_total,
)
from popflow.report.maps import choropleth
from popflow.report.markup import Markup, el, fmt_number, join
from popflow.report.tables import html_table

INTERNATIONAL = "international"
VISITOR_TYPES = {"domestic_overnight": "Domestic overnight", "domestic_sameday": "Domestic same-day",
                 INTERNATIONAL: "International"}
TOP_ORIGINS = 15


def tourism(inputs: ReportInputs) -> Markup | None:
    """Daily visitors chart, overnight-stays map and top-origins table; None without a tourism table."""
    df = inputs.frame("tourism")
    if df is None:
        return None
    df = df.dropna(subset=[VISITORS])
    if df.empty:
        return note("No visitor count was large enough to publish.")
    span = f"{df[DATE].min()} to {df[DATE].max()}"
    return join([
        el("p", f"Visitors — people outside their usual environment (home and workplace) — on the days {span}. "
                "Counts are summed over published cells only, so each total is a lower bound."),
        daily_visitors(df), overnight_map(inputs, df, span), top_origins(inputs, df),
    ])


def daily_visitors(df: pd.DataFrame) -> Markup:
    """One line per visitor type: visitors per day summed over areas and origins, gaps where none was published."""
    days = pd.date_range(pd.Timestamp(df[DATE].min()), pd.Timestamp(df[DATE].max()), freq="D")
    per_day = df.assign(day=pd.to_datetime(df[DATE])).groupby([VISITOR_TYPE, "day"])[VISITORS].sum()
    types = [t for t in VISITOR_TYPES if t in set(df[VISITOR_TYPE])]
    types += sorted(set(df[VISITOR_TYPE]) - set(types))
    xs = [d.timestamp() for d in days]
    series = [Series(VISITOR_TYPES.get(t, str(t)), [(x, None if pd.isna(v) else float(v)) for x, v in
                                                    zip(xs, per_day[t].reindex(days), strict=True)])
              for t in types]
    return join([el("h3", "Visitors per day by visitor type"),
                 line_chart(series, day_ticks(days), label="Visitors per day by visitor type"),
                 legend([s.label for s in series]),
                 note("A visitor is counted once per day and area visited. Days with no published cell for a "
                      "visitor type are gaps in its line, not zeros.")])


def day_ticks(days: pd.DatetimeIndex, most: int = 10) -> list[tuple[float, str]]:
    """Axis ticks on about ``most`` evenly spaced days."""
    step = max(1, math.ceil(len(days) / most))
    return [(d.timestamp(), d.strftime("%a %d %b")) for d in days[::step]]


def overnight_map(inputs: ReportInputs, df: pd.DataFrame, span: str) -> Markup:
    """Choropleth of visitor-nights per area over the window; areas with every night withheld are hatched."""
    shapes = inputs.shapes(set(df[AREA_ID].dropna()))
    heading = el("h3", "Overnight visitors per area")
    if not shapes:
        return join([heading, no_geometry()])
    stays = df.groupby(AREA_ID)[NIGHTS].agg(total=lambda s: s.sum(min_count=1), withheld=lambda s: s.isna().any())
    values = {a: float(v) for a, v in stays["total"].dropna().items() if v > 0}
    partial = sum(1 for a in values if stays.at[a, "withheld"])
    hidden = sum(1 for s in shapes if s.area_id not in values)
    return join([
        heading,
        choropleth(shapes, values, label=f"Overnight visitors per area, {span}", unit="visitor-nights"),
        note(f"Visitor-nights summed over the days {span}: every visitor, domestic or international, counts "
             f"once for each night spent in the area. {hidden} of {len(shapes)} areas had no overnight visitors "
             f"large enough to publish ({TOO_FEW}, hatched); in {partial} more some nights were withheld, so "
             "their totals are lower bounds."),
    ])


def origin_kind(inputs: ReportInputs, origin: str, visitor_type: object) -> str:
    """What an origin is: a country, an area here, a region elsewhere (a code of the ``regions`` source)."""
    if visitor_type == INTERNATIONAL:
        return "Country"
    if origin in inputs.areas:
        return "Area"
    if origin.isdigit() or origin in inputs.regions:
        return "Region elsewhere"
    return "Unknown" if origin == "unknown" else "Other"


def origin_name(inputs: ReportInputs, kind: str, origin: str) -> object:
    """An origin for readers: a country or region by name (its code in a tooltip), an area by name."""
    if kind == "Country":
        name = country_name(origin)
        return origin if name == origin else el("span", name, title=origin)
    if kind == "Area":
        return inputs.name(origin)
    return inputs.region(origin) if kind == "Region elsewhere" else origin


def top_origins(inputs: ReportInputs, df: pd.DataFrame) -> Markup:
    """The origins sending the most visitors, with their nights (a lower bound when some were withheld).

    Visitors whose origin is an area enclosing the one they visit (the whole region, at the default
    origin level) say nothing about where visitors come from; they are counted in a note instead.
    """
    origins = df[ORIGIN].astype(str)
    inside = [t != INTERNATIONAL and inputs.encloses(o, a) for o, a, t in zip(origins, df[AREA_ID], df[VISITOR_TYPE],
                                                                             strict=True)]
    local = df[inside]
    df = df[[not i for i in inside]]
    df = df.assign(origin=origins[df.index], withheld=df[NIGHTS].isna(),
                   kind=[origin_kind(inputs, o, t) for o, t in zip(origins[df.index], df[VISITOR_TYPE], strict=True)])
    summed = df.groupby(["kind", ORIGIN]).agg(
        visitors=(VISITORS, "sum"), nights=(NIGHTS, lambda s: s.sum(min_count=1)), withheld=("withheld", "any"))
    top = summed.sort_values("visitors", ascending=False, kind="stable").head(TOP_ORIGINS).reset_index()
    rows = [(i + 1, origin_name(inputs, r["kind"], r[ORIGIN]), r["kind"], int(r["visitors"]),
             published_total(r["nights"], r["withheld"])) for i, r in top.iterrows()]
    table = html_table(("#", "Origin", "Kind", "Visitors (sum of daily counts)", "Nights"), rows,
                       numeric=frozenset({0, 3, 4}))
    return join([
        el("h3", f"Top {len(rows)} origins" if rows else "Origins"),
        table if rows else note("No visitor count from outside the visited areas' own region was published."),
        note("Origins are a domestic visitor's home area, the region (province) of visitors registered "
             "elsewhere, or an international visitor's country; hover over a name for its code. “≥” marks "
             "nights where some cells were withheld; “withheld” means none was published."),
        local_visitors_note(inputs, local),
    ])


def local_visitors_note(inputs: ReportInputs, local: pd.DataFrame) -> Markup | None:
    """How many visitors came from within an area enclosing the one they visited (left out of the ranking)."""
    if local.empty:
        return None
    names = ", ".join(sorted({inputs.name(o) for o in local[ORIGIN]}))
    return note(f"Left out of the ranking: {fmt_number(int(local[VISITORS].sum()))} visitors (sum of daily counts) "
                f"whose home lies in the same {names} as the area they visited.")
