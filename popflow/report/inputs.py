"""What every section draws from (the released tables, areas and measures) and what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import shapely

from popflow.columns import AREA_ID, GEOMETRY, LEVEL, NAME, PARENT_ID
from popflow.report.maps import AreaShape
from popflow.report.markup import Markup, el, esc, fmt_number

# Columns of the released tables the report reads (as the indicators name them), declared once.
TIME, PEOPLE, PERIOD = "time", "people", "period"
ORIGIN, DESTINATION, TRIPS, TRAVELLERS = "origin", "destination", "trips", "travellers"
HOME_AREA, WORK_AREA = "home_area_id", "work_area_id"
PERIOD_FROM, PERIOD_TO, FROM_AREA, TO_AREA = "period_from", "period_to", "from_area", "to_area"
VISITOR_TYPE, VISITORS, NIGHTS = "visitor_type", "visitors", "nights"
WEEK, DESTINATION_COUNTRY, CURRENCY = "week", "destination_country", "currency"
SPEND_TOTAL, PREMIUM_SHARE = "spend_total", "premium_share"
CHANGE_VS_PREV_YEAR, CHANGE_VS_PREV_4W = "change_vs_prev_year", "change_vs_prev_4w"
MONTH, REGION_ID, ORDERS, BUYERS, REVENUE = "month", "region_id", "orders", "buyers", "revenue"
ONLINE_SHARE, POTENTIAL, PENETRATION, OPPORTUNITY = "online_share", "potential", "penetration", "opportunity"
SERIES, KEY, VALUE, EXPECTED, SCORE = "series", "key", "value", "expected", "score"

WITHHELD = "withheld"
TOO_FEW = "too few to show"


@dataclass(frozen=True)
class ReportInputs:
    """Everything a section may draw from: ``regions`` maps region codes to names (the ``regions`` source);
    ``read`` collects the tables sections asked for."""

    tables: dict[str, pa.Table]
    areas: dict[str, dict]
    accuracy: dict | None
    quality: list[dict]
    regions: dict[str, str] = field(default_factory=dict)
    read: set[str] = field(default_factory=set)

    def name(self, area_id: object) -> str:
        """Display name of an area (its id when it has no name)."""
        area = self.areas.get(area_id) or {}
        return str(area.get(NAME) or area_id)

    def region(self, code: object) -> Markup:
        """A region's name with its code as a tooltip, or the code itself when the region has no name."""
        name = self.regions.get(str(code))
        return esc(code) if name is None else el("span", name, title=str(code))

    def region_label(self, code: object) -> str:
        """A region's name as plain text (for chart labels), or its code when it has no name."""
        return self.regions.get(str(code), str(code))

    def encloses(self, area_id: object, inner: object) -> bool:
        """Whether ``area_id`` is ``inner`` or one of its ancestors."""
        while inner is not None:
            if inner == area_id:
                return True
            inner = (self.areas.get(inner) or {}).get(PARENT_ID)
        return False

    def frame(self, table: str) -> pd.DataFrame | None:
        """A released table as a DataFrame, or None when it was not given."""
        self.read.add(table)
        found = self.tables.get(table)
        return None if found is None else found.to_pandas()

    def shapes(self, area_ids: set[str]) -> list[AreaShape]:
        """Drawable areas at the level(s) of ``area_ids``, including areas of that level with no row."""
        levels = {self.areas[a].get(LEVEL) for a in area_ids if a in self.areas}
        chosen = [a for a in self.areas.values() if a.get(LEVEL) in levels or a[AREA_ID] in area_ids]
        return [AreaShape(a[AREA_ID], self.name(a[AREA_ID]), shapely.from_wkt(a[GEOMETRY]))
                for a in sorted(chosen, key=lambda a: str(a[AREA_ID])) if a.get(GEOMETRY)]


@dataclass(frozen=True)
class Section:
    """A titled part of the report."""

    anchor: str
    heading: str
    draw: Callable[[ReportInputs], Markup | None]


def note(text: str) -> Markup:
    """A small explanatory paragraph under a chart or table."""
    return el("p", text, class_="note")


def no_geometry() -> Markup:
    """Said instead of a map when no area to draw has a geometry."""
    return note("No area has a geometry, so there is nothing to draw.")


def published_total(total: float, partly_withheld: bool) -> str:
    """A sum of published values: "withheld" when none was published, "≥" when only some were."""
    if pd.isna(total):
        return WITHHELD
    return f"≥ {fmt_number(int(total))}" if partly_withheld else fmt_number(int(total))


def share_text(value: float | None, missing: str = WITHHELD) -> str:
    """A share (0–1) as a percentage with one decimal, or ``missing`` when it was not published."""
    return missing if value is None or pd.isna(value) else f"{100 * value:.1f} %"


def change_text(value: float | None, missing: str = "no comparison") -> str:
    """A relative change as an arrow and a signed percentage, e.g. ``▲ +12.0 %``."""
    if value is None or pd.isna(value):
        return missing
    arrow = "▲" if value > 0 else "▼" if value < 0 else "="
    return f"{arrow} {100 * value:+.1f} %"


def money_text(value: float | None, currency: object, missing: str = WITHHELD) -> str:
    """An amount with its ISO 4217 currency code, e.g. ``1,234 CNY``."""
    if value is None or pd.isna(value):
        return missing
    return f"{fmt_number(float(value))} {currency}".strip()
