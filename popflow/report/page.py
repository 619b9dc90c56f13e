"""The page around the sections: head with inline styles, header, contents and footer."""

from __future__ import annotations

from datetime import datetime

from popflow.report.markup import Markup, el

CSS = """
:root { --ink: #1f2933; --muted: #5f6b7a; --line: #d9dee5; --accent: #0072b2; --bar: #2ca25f; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #f6f7f9; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 20px 48px; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 8px; padding-bottom: 8px; }
h1 { font-size: 1.9rem; margin: 0 0 4px; }
h2 { font-size: 1.3rem; margin: 0 0 8px; }
h3 { font-size: 1.05rem; margin: 20px 0 6px; }
.generated, .note { color: var(--muted); font-size: 0.9rem; }
.privacy { background: #eef5fb; border-left: 4px solid var(--accent); padding: 10px 14px; }
nav ol { display: flex; flex-wrap: wrap; gap: 4px 22px; padding-left: 0; margin: 8px 0 0; list-style-position: inside; }
nav a { color: var(--accent); text-decoration: none; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 18px 20px;
          margin: 18px 0; }
svg { display: block; width: 100%; height: auto; margin: 8px 0; }
svg text { font: 12px system-ui, sans-serif; fill: var(--ink); }
svg .tick { fill: var(--muted); }
svg .grid { stroke: #e6e9ee; stroke-width: 1; }
svg .grid.minor { stroke-dasharray: 2 3; }
svg .series { fill: none; stroke-width: 1.8; stroke-linejoin: round; }
svg .bar { fill: var(--bar); }
svg .value { font-weight: 600; }
svg .area { stroke: #fff; stroke-width: 1; fill-rule: evenodd; }
svg .area:hover, svg .outline:hover { stroke: var(--ink); stroke-width: 2; }
svg .outline { fill: #f1f3f5; stroke: #aab3bf; stroke-width: 0.8; fill-rule: evenodd; }
svg .swatch { stroke: #9aa3ad; stroke-width: 0.5; }
svg .flow { stroke: #d55e00; stroke-opacity: 0.6; stroke-linecap: round; }
svg .flow:hover { stroke-opacity: 1; }
svg .centre { fill: var(--ink); }
svg .area-label { font-size: 10px; fill: var(--ink); text-anchor: middle; dominant-baseline: middle;
                  paint-order: stroke; stroke: #fff; stroke-width: 2.5px; stroke-opacity: 0.85; pointer-events: none; }
svg.sparkline { display: inline-block; width: 120px; height: 28px; margin: 0; vertical-align: middle; }
svg .spark { fill: none; stroke: var(--accent); stroke-width: 1.5; stroke-linejoin: round; }
svg .spark-dot { fill: var(--accent); }
.up { color: #b34700; white-space: nowrap; }
.down { color: var(--accent); white-space: nowrap; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 18px; padding: 0; margin: 4px 0; }
ul.legend .swatch { display: inline-block; width: 14px; height: 4px; margin-right: 6px; vertical-align: middle; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 0.92rem; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f1f3f5; font-weight: 600; }
td .line { display: block; white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:hover { background: #fafbfc; }
footer { color: var(--muted); font-size: 0.85rem; text-align: center; }
"""


def privacy_paragraph(k_anonymity: int | None) -> Markup:
    """The statement every reader needs before reading any number."""
    k = f"at least {k_anonymity:,} people" if k_anonymity else "at least k people (the workspace's k-anonymity setting)"
    return el("p", f"Every number in this report is an aggregate over {k}. Cells with fewer people were suppressed "
                   "before release: they are not shown, and a missing value means “too few to show”, never zero.",
              class_="privacy")


def contents(entries: list[tuple[str, str]]) -> Markup:
    """Links to the sections present in the report."""
    return el("nav", el("ol", *(el("li", el("a", heading, href=f"#{anchor}")) for anchor, heading in entries)))


def header(title: str, generated: datetime, k_anonymity: int | None, entries: list[tuple[str, str]]) -> Markup:
    """Title, generation time, the privacy statement and the contents."""
    stamp = generated.strftime("%Y-%m-%d %H:%M %Z").strip()
    return el("header", el("h1", title), el("p", f"Generated {stamp}", class_="generated"),
              privacy_paragraph(k_anonymity), contents(entries))


def section(anchor: str, heading: str, body: Markup) -> Markup:
    """One titled section of the report."""
    return el("section", el("h2", heading), body, id=anchor)


def page(title: str, body: Markup) -> str:
    """A complete, self-contained HTML document (styles inline, nothing fetched)."""
    head = el("head", Markup('<meta charset="utf-8">'),
              Markup('<meta name="viewport" content="width=device-width, initial-scale=1">'),
              el("title", title), el("style", Markup(CSS)))
    foot = el("footer", "popflow — aggregate, privacy-safe statistics. This file works offline.")
    return "<!DOCTYPE html>\n" + el("html", head, el("body", el("main", body, foot)), lang="en") + "\n"

