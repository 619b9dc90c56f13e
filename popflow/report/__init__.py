"""A self-contained, offline HTML report of released tables: inline SVG charts and maps,
inline styles, no scripts and nothing fetched from the network.

Only released (already disclosure-controlled) tables go in; the report adds no
numbers of its own beyond sums and rankings of what was published.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from popflow.columns import AREA_ID
from popflow.report.markup import join
from popflow.report.page import header, page, section
from popflow.report.registered import registered_sections
from popflow.report.sections import SECTIONS, ReportInputs

__all__ = ["SECTIONS", "build_report"]


def build_report(out: Path, tables: dict[str, pa.Table], areas: list[dict], accuracy: dict | None,
                 quality: list[dict], title: str = "popflow demo report", *,
                 k_anonymity: int | None = None, generated: datetime | None = None,
                 regions: dict[str, str] | None = None) -> Path:
    """Write the report to ``out`` and return ``out``.

    Sections whose table is absent are left out; a table no section reads gets a section of its largest
    cells when a registered indicator releases it. ``k_anonymity`` (from the workspace
    settings) is quoted in the privacy statement when given; ``generated`` defaults to now;
    ``regions`` (code → name, from the ``regions`` source) names origin regions.
    """
    inputs = ReportInputs(tables, {a[AREA_ID]: a for a in areas}, accuracy, quality or [], regions or {})
    drawn = [(s, s.draw(inputs)) for s in SECTIONS]
    drawn += [(s, s.draw(inputs)) for s in registered_sections([t for t in tables if t not in inputs.read])]
    present = [(s, body) for s, body in drawn if body is not None]
    top = header(title, generated or datetime.now(UTC), k_anonymity, [(s.anchor, s.heading) for s, _ in present])
    body = join([top, *(section(s.anchor, s.heading, b) for s, b in present)])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page(title, body), encoding="utf-8")
    return out
