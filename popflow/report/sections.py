"""The report's sections, in order: each turns the released tables into a piece of HTML, or None
when the table it needs is absent (the section is then left out)."""

from __future__ import annotations

import math

import pandas as pd

from popflow.columns import AREA_ID, DATE, ORIGIN_REGION
from popflow.indicators.estimates import ESTIMATE, ESTIMATE_HIGH, ESTIMATE_LOW
from popflow.report.alerts import alerts
from popflow.report.charts import Series, bar_chart, legend, line_chart
from popflow.report.inputs import (
    DESTINATION,
    FROM_AREA,
    HOME_AREA,
    ORIGIN,
    PEOPLE,
    PERIOD,
    PERIOD_FROM,
    PERIOD_TO,
    TIME,
    TO_AREA,
    TOO_FEW,
    TRAVELLERS,
    TRIPS,
    WORK_AREA,
    ReportInputs,
    Section,
    no_geometry,
    note,
    published_total,
    share_text,
)
from popflow.report.maps import choropleth, flow_map
from popflow.report.markup import MISSING, Markup, el, fmt_number, join
from popflow.report.outbound import outbound_travel
from popflow.report.retail import retail
from popflow.report.tables import accuracy_table, html_table, quality_table
from popflow.report.tourism import tourism

BUSIEST_AREAS = 6
TOP_FLOWS = 20
TOP_WORKER_PAIRS = 15
TOP_MOVES = 15


# 2. Present population ------------------------------------------------------------------------

def present_population(inputs: ReportInputs) -> Markup | None:
    """Line chart of people per hour in the busiest areas, with suppressed hours as gaps."""
    df = inputs.frame("present-population")
    if df is None:
        return None
    df = df.dropna(subset=[PEOPLE])
    if df.empty:
        return note("No hour had enough people to publish.")
    busiest = df.groupby(AREA_ID)[PEOPLE].sum().nlargest(BUSIEST_AREAS).index.tolist()
    hours = pd.date_range(df[TIME].min(), df[TIME].max(), freq="h")
    xs = [t.timestamp() for t in hours]
    series = [hourly_series(df[df[AREA_ID] == a], hours, xs, inputs.name(a)) for a in busiest]
    gaps = sum(1 for s in series for _, y in s.points if y is None)
    chart = line_chart(series, date_ticks(hours), label=f"People present per hour, {len(busiest)} busiest areas")
    return join([
        el("p", f"People present per hour in the {len(busiest)} busiest areas (by total over the window)."),
        chart, legend([s.label for s in series]),
        note(f"Suppressed area-hours (too few people) shown here: {fmt_number(gaps)}. They appear as gaps "
             "in the lines, not as zeros."),
        presence_estimates(inputs, df, busiest),
    ])


def presence_estimates(inputs: ReportInputs, df: pd.DataFrame, busiest: list[str]) -> Markup | None:
    """The busiest areas at the busiest hour: subscribers counted beside the estimate of everyone present
    and its 90 % interval (when a census was ingested)."""
    if ESTIMATE not in df.columns or df[ESTIMATE].isna().all():
        return None
    hour = df.groupby(TIME)[ESTIMATE].sum().idxmax()
    rows = df[(df[TIME] == hour) & df[AREA_ID].isin(busiest)].sort_values(ESTIMATE, ascending=False)
    caption = f"People present at {hour:%Y-%m-%d %H:%M}, the busiest hour"
    table = html_table(("Area", "Subscribers counted", "Estimate of everyone", "90 % interval"), [
        (inputs.name(r[AREA_ID]), r[PEOPLE], r[ESTIMATE],
         f"{fmt_number(r[ESTIMATE_LOW])} – {fmt_number(r[ESTIMATE_HIGH])}") for r in rows.to_dict("records")], caption)
    return join([table, note("Counts are the operator's subscribers placed in the area; the estimate scales "
                             "them to everyone with census weights recalibrated in each hour (see the README's "
                             "population estimates). Read the estimate, not the count, as people present.")])


def hourly_series(rows: pd.DataFrame, hours: pd.DatetimeIndex, xs: list[float], label: str) -> Series:
    """One area's values on the full hourly grid, None where the hour was not published."""
    values = rows.groupby(TIME)[PEOPLE].sum().reindex(hours)
    return Series(label, [(x, None if pd.isna(v) else float(v)) for x, v in zip(xs, values, strict=True)])


def date_ticks(hours: pd.DatetimeIndex, most: int = 10) -> list[tuple[float, str]]:
    """Axis ticks at local midnights (or every 6 hours for windows under two days)."""
    if len(hours) < 48:
        marks = [t for t in hours if t.hour % 6 == 0]
        return [(t.timestamp(), t.strftime("%d %b %H:%M")) for t in marks]
    midnights = [t for t in hours if t.hour == 0]
    step = math.ceil(len(midnights) / most)
    return [(t.timestamp(), t.strftime("%a %d %b")) for t in midnights[::step]]


# 3. Residents map -----------------------------------------------------------------------------

def residents_map(inputs: ReportInputs) -> Markup | None:
    """Choropleth of residents per area in the latest period."""
    df = inputs.frame("residents")
    if df is None:
        return None
    shapes = inputs.shapes(set(df[AREA_ID].dropna()))
    if df.empty or not shapes:
        return note("No residents were published.") if df.empty else no_geometry()
    latest = df[PERIOD].max()
    values = df[df[PERIOD] == latest].groupby(AREA_ID)[PEOPLE].sum(min_count=1).dropna().to_dict()
    hidden = sum(1 for s in shapes if s.area_id not in values)
    return join([
        el("p", f"Residents (people whose detected home is in the area) in {latest}."),
        choropleth(shapes, values, label=f"Residents per area, {latest}"),
        note(f"{hidden} of {len(shapes)} areas had too few residents to show; they are hatched grey, "
             "which does not mean nobody lives there. Hover over an area for its name and value."),
    ])


# 4. Origin–destination flows ------------------------------------------------------------------

def top_flows(df: pd.DataFrame) -> pd.DataFrame:
    """Origin–destination pairs summed over all dates, largest by travellers first."""
    df = df.assign(withheld=df[TRIPS].isna())
    summed = df.groupby([ORIGIN, DESTINATION]).agg(
        travellers=(TRAVELLERS, "sum"), trips=(TRIPS, lambda s: s.sum(min_count=1)), withheld=("withheld", "any"))
    summed = summed[summed["travellers"] > 0]
    return summed.sort_values("travellers", ascending=False, kind="stable").head(TOP_FLOWS).reset_index()


def trips_text(trips: float, withheld: bool) -> str:
    """Summed trips, marked as a lower bound when some days' trips were withheld."""
    return published_total(trips, withheld)


def od_flows(inputs: ReportInputs) -> Markup | None:
    """Map of the largest origin–destination flows, plus the same flows as a table."""
    df = inputs.frame("od-flows")
    if df is None:
        return None
    top = top_flows(df)
    if top.empty:
        return note("No origin–destination flow was published.")
    shapes = inputs.shapes(set(df[ORIGIN]) | set(df[DESTINATION]))
    flows = list(zip(top[ORIGIN], top[DESTINATION], top["travellers"], strict=True))
    rows = [(i + 1, inputs.name(r[ORIGIN]), inputs.name(r[DESTINATION]), int(r["travellers"]),
             trips_text(r["trips"], r["withheld"])) for i, r in top.iterrows()]
    span = f"{df[DATE].min()} to {df[DATE].max()}"
    return join([
        el("p", f"The {len(top)} largest flows between areas, travellers summed over the days {span}. "
                "Line width grows with the number of travellers; lines sit to the right of their direction."),
        flow_map(shapes, flows, label="Largest origin–destination flows") if shapes else no_geometry(),
        html_table(("#", "Origin", "Destination", "Travellers (sum of daily counts)", "Trips"), rows,
                   numeric=frozenset({0, 3, 4})),
        note("“≥” marks a total where some days' trip counts were withheld; the sum covers published days only."),
    ])


# 5. Workers -----------------------------------------------------------------------------------

def workers(inputs: ReportInputs) -> Markup | None:
    """The largest commuting flows between different areas, then the share working in their home area."""
    df = inputs.frame("workers")
    if df is None:
        return None
    latest = df[PERIOD].max() if not df.empty else MISSING
    month = df[df[PERIOD] == latest].dropna(subset=[PEOPLE])
    return join([commuting_flows(inputs, month, latest), working_at_home(inputs, month, latest)])


def commuting_flows(inputs: ReportInputs, month: pd.DataFrame, latest: str) -> Markup:
    """Table of the largest home → work pairs whose two areas differ."""
    top = month[month[HOME_AREA] != month[WORK_AREA]].nlargest(TOP_WORKER_PAIRS, PEOPLE)
    rows = [(inputs.name(r[HOME_AREA]), inputs.name(r[WORK_AREA]), int(r[PEOPLE])) for _, r in top.iterrows()]
    return join([el("h3", "Commuting between areas"),
                 el("p", f"The {len(rows)} largest flows from a home area to a different work area in {latest}."),
                 html_table(("Home area", "Work area", "Workers"), rows, numeric=frozenset({2}))
                 if rows else note("No commuting flow between two different areas was published.")])


def working_at_home(inputs: ReportInputs, month: pd.DataFrame, latest: str) -> Markup:
    """Per home area: published workers, those working in the same area and their share, largest first."""
    same = month[HOME_AREA] == month[WORK_AREA]
    per_home = month.assign(local=month[PEOPLE].where(same)).groupby(HOME_AREA).agg(
        workers=(PEOPLE, "sum"), local=("local", lambda s: s.sum(min_count=1)))
    per_home = per_home.sort_values("workers", ascending=False, kind="stable")
    rows = [(inputs.name(area), int(r["workers"]), TOO_FEW if pd.isna(r["local"]) else int(r["local"]),
             share_text(None if pd.isna(r["local"]) else r["local"] / r["workers"], TOO_FEW))
            for area, r in per_home.iterrows()]
    overall = month.loc[same, PEOPLE].sum() / month[PEOPLE].sum() if len(month) else None
    return join([el("h3", "Working in their home area"),
                 el("p", f"{share_text(overall, MISSING)} of the workers in published cells in {latest} work in "
                         "the area they live in."),
                 html_table(("Home area", "Workers (published cells)", "Working in their home area", "Share"), rows,
                            numeric=frozenset({1, 2, 3})),
                 note("Sums and shares cover published cells only: a home–work pair with too few workers is left "
                      "out of both the workers and the count working at home.")])


# 6. Migration and arrivals --------------------------------------------------------------------

def arrivals_chart(inputs: ReportInputs) -> Markup | None:
    """Bar chart of arrivals by the region they came from, summed over all periods."""
    df = inputs.frame("arrivals")
    if df is None:
        return None
    totals = df.groupby(ORIGIN_REGION)[PEOPLE].sum().sort_values(ascending=False)
    shown = [(str(region), float(n)) for region, n in totals.items() if n > 0]
    bars = [(inputs.region_label(region), n) for region, n in shown]
    chart = bar_chart(bars, label="Arrivals by origin region", codes=[region for region, _ in shown])
    return join([el("h3", "Arrivals by origin region"), chart if bars else note("No arrivals were published.")])


def moves_table(inputs: ReportInputs) -> Markup | None:
    """Table of the largest moves of residence between areas."""
    df = inputs.frame("migration")
    if df is None:
        return None
    top = df.dropna(subset=[PEOPLE]).nlargest(TOP_MOVES, PEOPLE)
    rows = [(inputs.name(r[FROM_AREA]), inputs.name(r[TO_AREA]), f"{r[PERIOD_FROM]} → {r[PERIOD_TO]}",
             int(r[PEOPLE])) for _, r in top.iterrows()]
    return join([el("h3", "Largest moves of residence"),
                 html_table(("From", "To", "Periods", "People"), rows, numeric=frozenset({3}))])


def migration(inputs: ReportInputs) -> Markup | None:
    """Arrivals chart and moves table; left out when neither table was given."""
    parts = [arrivals_chart(inputs), moves_table(inputs)]
    return None if all(p is None for p in parts) else join(parts)


# 7–10. Tourism, outbound travel, retail and alerts live in their own modules.


# 11. Accuracy and data quality -----------------------------------------------------------------

def accuracy(inputs: ReportInputs) -> Markup | None:
    """Accuracy measures against the synthetic ground truth."""
    if not inputs.accuracy:
        return None
    return join([el("p", "Accuracy is measured against the synthetic ground truth that generated the demo data "
                         "(true homes and true presence); real data has no such truth."),
                 accuracy_table(inputs.accuracy)])


def data_quality(inputs: ReportInputs) -> Markup | None:
    """Rows read, accepted and quarantined per ingested source."""
    if not inputs.quality:
        return None
    return join([el("p", "Rows read, accepted and quarantined (with reasons) when each source was ingested."),
                 quality_table(inputs.quality)])


SECTIONS = (
    Section("present-population", "Present population over time", present_population),
    Section("residents", "Map of residents", residents_map),
    Section("od-flows", "Top origin–destination flows", od_flows),
    Section("workers", "Workers: home and work", workers),
    Section("migration", "Migration and arrivals", migration),
    Section("tourism", "Tourism: visitors", tourism),
    Section("outbound-travel", "Outbound travel", outbound_travel),
    Section("retail", "Retail: sales penetration", retail),
    Section("alerts", "Alerts: values that break their pattern", alerts),
    Section("accuracy", "Accuracy against ground truth", accuracy),
    Section("data-quality", "Data quality", data_quality),
)
