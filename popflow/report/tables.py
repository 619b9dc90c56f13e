"""HTML tables: a generic numeric-aware table and the accuracy and data-quality tables."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from popflow.accuracy import meaning
from popflow.report.markup import MISSING, Markup, el, fmt_number, join


def cell(value: object, numeric: bool = False) -> Markup:
    """A table cell: numbers right-aligned with thousands separators, yes/no for flags, other text escaped."""
    if isinstance(value, bool):
        return el("td", "yes" if value else "no", class_="num")
    if isinstance(value, numbers.Real):
        return el("td", fmt_number(value), class_="num")
    return el("td", MISSING if value is None else value, class_="num" if numeric else None)


def html_table(headers: Sequence[str], rows: Sequence[Sequence[object]], caption: str | None = None,
               numeric: frozenset[int] = frozenset()) -> Markup:
    """A table with a header row; number cells, and the columns listed in ``numeric``, are right-aligned."""
    head = el("thead", el("tr", *(el("th", h, class_="num" if i in numeric else None) for i, h in enumerate(headers))))
    body = el("tbody", *(el("tr", *(cell(v, i in numeric) for i, v in enumerate(row))) for row in rows))
    title = el("caption", caption) if caption else None
    return el("div", el("table", title, head, body), class_="table-wrap")


def flatten(values: dict, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """Nested dicts as (key path, value) pairs, depth first in the dict's own order."""
    pairs = []
    for key, value in values.items():
        path = (*prefix, str(key))
        pairs += flatten(value, path) if isinstance(value, dict) else [(path, value)]
    return pairs


def readable_key(path: tuple[str, ...]) -> str:
    """A key path for readers: ``presence_error/carry_0`` → ``presence error › carry 0``."""
    return " › ".join(part.replace("_", " ") for part in path)


def accuracy_table(accuracy: dict) -> Markup:
    """Every measure of the accuracy dict, nested keys flattened, one row each, with what it means."""
    rows = [(readable_key(path), inline(value), meaning(path)) for path, value in flatten(accuracy)]
    return html_table(("Measure", "Value", "What it means"), rows)


def inline(value: object) -> object:
    """Lists and dicts as one short line of text; numbers and text unchanged."""
    if isinstance(value, dict):
        return " · ".join(f"{k}: {fmt_number(v)}" for k, v in value.items()) or MISSING
    if isinstance(value, list | tuple):
        return ", ".join(fmt_number(v) for v in value) or MISSING
    return value


QUALITY_HEADERS = ("Source", "Rows read", "Accepted", "Quarantined", "Quarantined by reason",
                   "Distinct people", "Time span")


def quality_row(report: dict) -> tuple:
    """One ingest's data-quality report as a table row."""
    rows = report.get("rows") or {}
    span = report.get("time_span")
    if isinstance(span, dict):
        span = lines([f"{minutes(span.get('first'))} →", minutes(span.get("last"))])
    reasons = report.get("quarantined_by_reason") or {}
    return (report.get("source"), rows.get("read"), rows.get("accepted"), rows.get("quarantined"),
            lines([f"{k}: {fmt_number(v)}" for k, v in reasons.items()]) if reasons else "none",
            report.get("distinct_people"), inline(span))


def lines(texts: list[str]) -> Markup:
    """Texts one per line, none of them broken."""
    return join([el("span", t, class_="line") for t in texts])


def minutes(instant: str | None) -> str:
    """An ISO 8601 time to the minute: ``2026-01-19T00:00:04+08:00`` → ``2026-01-19 00:00``."""
    return MISSING if not instant else str(instant)[:16].replace("T", " ")


def quality_table(reports: list[dict]) -> Markup:
    """The data-quality reports of every ingested source, one row per source, then records per person."""
    return join([html_table(QUALITY_HEADERS, [quality_row(r) for r in reports]), records_per_person(reports)])


def records_per_person(reports: list[dict]) -> Markup | None:
    """Percentiles of records per person, one number per cell, for the sources that have people."""
    with_people = [r for r in reports if r.get("records_per_person")]
    if not with_people:
        return None
    percentiles = sorted({p for r in with_people for p in r["records_per_person"]}, key=lambda p: float(p[1:]))
    rows = [(r.get("source"), *(r["records_per_person"].get(p) for p in percentiles)) for r in with_people]
    return html_table(("Records per person", *percentiles), rows,
                      numeric=frozenset(range(1, len(percentiles) + 1)))
