"""Sections for released tables that no dedicated section draws, such as a third-party indicator's: the
largest published cells, their columns read through the roles the releasing indicator declares."""

from __future__ import annotations

import pandas as pd

from popflow import indicators
from popflow.indicators.roles import column_roles
from popflow.report.inputs import ReportInputs, Section, note
from popflow.report.markup import Markup, el, join
from popflow.report.tables import html_table

TOP_CELLS = 15


def registered_sections(tables: list[str]) -> list[Section]:
    """One section per table a registered indicator releases, in the order given."""
    sections = []
    for table in tables:
        found = _releasing(table)
        if found is not None:
            sections.append(Section(table, f"{table}: {found[0].summary}", _largest_cells(table, found[1])))
    return sections


def _releasing(table: str) -> tuple[indicators.Indicator, dict[str, str]] | None:
    """The indicator that releases ``table`` and the roles of its columns, or None when none does."""
    for indicator in indicators.all_indicators():
        roles = column_roles(indicator)
        if table in roles["tables"]:
            return indicator, roles["columns"]
    return None


def _largest_cells(table: str, roles: dict[str, str]):
    """Draws the published cells with the largest first count, area ids named."""

    def draw(inputs: ReportInputs) -> Markup | None:
        df = inputs.frame(table)
        if df is None:
            return None
        measure = next((c for c in df.columns if roles.get(c) == "count"), None)
        if df.empty or measure is None:
            return note("No cell was published.")
        top = df.dropna(subset=[measure]).sort_values(measure, ascending=False, kind="stable").head(TOP_CELLS)
        areas = [c for c in df.columns if roles.get(c) == "area"]
        top = top.assign(**{c: top[c].map(inputs.name) for c in areas})
        numeric = frozenset(i for i, c in enumerate(df.columns) if roles.get(c) in ("count", "interval", "money"))
        rows = [[None if pd.isna(v) else v for v in row] for row in top.astype(object).itertuples(index=False)]
        return join([
            el("p", f"The {len(top)} cells with the most {measure} of the {len(df)} published."),
            html_table(list(df.columns), rows, numeric=numeric),
            note("Cells with too few people were withheld and are not listed."),
        ])

    return draw
