"""Retail section: sales penetration of the latest month as a map, and regions ranked by opportunity."""

from __future__ import annotations

import pandas as pd

from popflow.report.inputs import (
    BUYERS,
    MONTH,
    ONLINE_SHARE,
    OPPORTUNITY,
    ORDERS,
    PENETRATION,
    POTENTIAL,
    REGION_ID,
    REVENUE,
    TOO_FEW,
    WITHHELD,
    ReportInputs,
    no_geometry,
    note,
    share_text,
)
from popflow.report.maps import choropleth
from popflow.report.markup import Markup, el, fmt_number, join
from popflow.report.tables import html_table

TOP_REGIONS = 15


def retail(inputs: ReportInputs) -> Markup | None:
    """Penetration map and opportunity ranking for the latest month; None without a sales-penetration table."""
    df = inputs.frame("sales-penetration")
    if df is None:
        return None
    if df.empty:
        return note("No region had enough buyers to publish.")
    latest = df[MONTH].max()
    month = df[df[MONTH] == latest]
    return join([
        el("p", f"Buyers of the retailer per region in {latest} against the potential market (adult residents "
                "detected in the region): penetration = buyers ÷ potential, opportunity = potential − buyers."),
        penetration_map(inputs, month, latest), opportunity_table(inputs, month, latest),
    ])


def penetration_map(inputs: ReportInputs, month: pd.DataFrame, latest: str) -> Markup:
    """Choropleth of penetration per region; regions without a published penetration are hatched."""
    shapes = inputs.shapes(set(month[REGION_ID].dropna()))
    if not shapes:
        return no_geometry()
    values = month.dropna(subset=[PENETRATION]).groupby(REGION_ID)[PENETRATION].max().to_dict()
    hidden = sum(1 for s in shapes if s.area_id not in values)
    return join([
        choropleth(shapes, values, label=f"Sales penetration per region, {latest}", unit="of adults",
                   fmt=lambda v: share_text(v)),
        note(f"{hidden} of {len(shapes)} regions had too few buyers or residents to show a penetration "
             "(hatched grey)."),
    ])


def count_text(value: float | None, missing: str = TOO_FEW) -> str:
    """A published count, or ``missing`` when it was not published."""
    return missing if value is None or pd.isna(value) else fmt_number(int(round(value)))


def opportunity_table(inputs: ReportInputs, month: pd.DataFrame, latest: str) -> Markup:
    """Regions of the latest month ranked by opportunity (largest first), unknown opportunities last."""
    ranked = month.sort_values(OPPORTUNITY, ascending=False, na_position="last", kind="stable").head(TOP_REGIONS)
    rows = [(rank, inputs.name(r[REGION_ID]), count_text(r[OPPORTUNITY]), count_text(r[BUYERS]),
             count_text(r[POTENTIAL]), share_text(r[PENETRATION], TOO_FEW), count_text(r[ORDERS], WITHHELD),
             "withheld" if pd.isna(r[REVENUE]) else fmt_number(float(r[REVENUE])),
             share_text(r[ONLINE_SHARE]))
            for rank, (_, r) in enumerate(ranked.iterrows(), start=1)]
    return join([
        el("h3", f"Regions ranked by opportunity, {latest}"),
        html_table(("#", "Region", "Opportunity", "Buyers", "Potential", "Penetration", "Orders", "Revenue",
                    "Online"), rows,
                   numeric=frozenset(range(9)) - {1}),
        note("Opportunity = potential − buyers; potential = adult residents; online = share of orders placed "
             "online. “too few to show” and “withheld” mark values that were not published; they are not zeros."),
    ])
