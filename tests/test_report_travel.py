"""The report's tourism, outbound-travel, retail and alerts sections, on small hand-made released tables."""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa
import pytest
from test_report import HEADINGS, TRICKY_NAME, all_tables, grid_areas, render, section_html

AREAS = [f"a{i}" for i in range(4)]
ESCAPED_NAME = "Old &lt;Town&gt; &amp; Co"
DESTINATIONS = ("FR", "DE", "JP", "US", "GB", "IT", "ES", "NL", "BE", "CH", "AT", "TH")
WEEKS = [f"2026-W{w:02d}" for w in range(1, 7)]
NESTED_ACCURACY = {"home_accuracy": 0.9, "outbound": {"shock_week_detected": True, "false_alarm_rate": 0.01},
                   "tourism": {"visitors_abs_pct": {"median": 8.5}}}
REGIONS = {"310000": "Shanghai", "north": "The North"}
NEW_SECTIONS = {"tourism": "tourism", "outbound-travel": "outbound-travel", "sales-penetration": "retail",
                "alerts": "alerts"}


def tourism_table() -> pa.Table:
    """Four days; no overnight visitors in a3; every night from region 310000 withheld; a1 once withheld."""
    rows = []
    for day in (dt.date(2026, 1, 5) + dt.timedelta(days=d) for d in range(4)):
        for i, area in enumerate(AREAS[:3]):
            rows += [(day, area, "domestic_overnight", "a0", 30 + i, 30 + i),
                     (day, area, "domestic_sameday", "110000", 50 + i, 0),
                     (day, area, "international", "FR", 12, 7),
                     (day, area, "domestic_overnight", "310000", 15, None)]
        rows.append((day, "a3", "domestic_sameday", "a1", 20, 0))
    rows[4] = (*rows[4][:5], None)  # nights in a1 of overnight visitors from a0 withheld on the first day
    date, area, kind, origin, visitors, nights = zip(*rows, strict=True)
    return pa.table({"date": pa.array(date, pa.date32()), "area_id": area, "visitor_type": kind, "origin": origin,
                     "visitors": pa.array(visitors, pa.int64()), "nights": pa.array(nights, pa.int64())})


def outbound_table(destinations=DESTINATIONS) -> pa.Table:
    """Six weeks per destination; DE misses week 3, JP's spend is always withheld, US's premium share too;
    GB's latest change vs last year is of week 5, ES has none."""
    rows = []
    for n, code in enumerate(destinations):
        for w, week in enumerate(WEEKS):
            if code == "DE" and w == 2:
                continue
            trips, travellers = 200 - 10 * n + w, 150 - 8 * n + w
            spend = None if code == "JP" else travellers * (1000.0 + 250 * n)
            premium = None if code == "US" else 0.1 + 0.01 * n
            change_year = 0.25 - 0.05 * n if w == len(WEEKS) - 1 - (code == "GB") and code != "ES" else None
            rows.append((week, code, trips, travellers, spend, 900.0, premium, change_year, 0.02 * n, "CNY"))
    columns = ("week", "destination_country", "trips", "travellers", "spend_total", "spend_median", "premium_share",
               "change_vs_prev_year", "change_vs_prev_4w", "currency")
    types = (pa.string(), pa.string(), pa.int64(), pa.int64(), *[pa.float64()] * 5, pa.string())
    return pa.table({c: pa.array(v, t) for c, v, t in zip(columns, zip(*rows, strict=True), types, strict=True)})


def retail_table() -> pa.Table:
    """Two months; in the latest, a2's potential (so penetration, opportunity) and a1's revenue are withheld."""
    rows = [("2026-01", a, 100, 80, 5000.0, 0.4, 1000.0, 0.08, 920.0) for a in AREAS]
    rows += [("2026-02", "a0", 120, 90, 6000.0, 0.5, 1000.0, 0.09, 910.0),
             ("2026-02", "a1", 110, 60, None, 0.3, 2000.0, 0.03, 1940.0),
             ("2026-02", "a2", 90, 70, 4000.0, 0.2, None, None, None),
             ("2026-02", "a3", 80, 50, 3000.0, 0.6, 500.0, 0.1, 450.0)]
    columns = ("month", "region_id", "orders", "buyers", "revenue", "online_share", "potential", "penetration",
               "opportunity")
    types = (pa.string(), pa.string(), pa.int64(), pa.int64(), *[pa.float64()] * 5)
    return pa.table({c: pa.array(v, t) for c, v, t in zip(columns, zip(*rows, strict=True), types, strict=True)})


def alerts_table() -> pa.Table:
    return pa.table({"series": ["outbound-travel:trips", "tourism:visitors", "present-population:people"],
                     "time": ["2026-W05", "2026-01-07", "2026-01-05T08:00:00+08:00"], "key": ["FR", "a0", "a2"],
                     "value": [420.0, 12.0, 300.0], "expected": [200.0, 60.0, 190.0], "score": [3.4, -5.3, 2.1]})


def travel_tables() -> dict[str, pa.Table]:
    return {"tourism": tourism_table(), "outbound-travel": outbound_table(), "sales-penetration": retail_table(),
            "alerts": alerts_table()}


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> str:
    tables = {**all_tables(AREAS), **travel_tables()}
    return render(tmp_path_factory.mktemp("travel"), tables, accuracy=NESTED_ACCURACY, regions=REGIONS)


def table_rows(html: str, after: str) -> list[str]:
    """The body rows of the first table after the text ``after``."""
    body = re.search(r"<tbody>(.*?)</tbody>", html[html.index(after):], re.S).group(1)
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def test_report_with_every_section_is_self_contained_and_ordered(report):
    for forbidden in ("http://", "https://", "<script", "<link", "@import"):
        assert forbidden not in report
    positions = [report.index(f"<h2>{h}</h2>") for h in HEADINGS.values()]
    assert positions == sorted(positions)
    contents = re.search(r"<nav>(.*?)</nav>", report, re.S).group(1)
    assert contents.index("#alerts") < contents.index("#accuracy")


@pytest.mark.parametrize("table", sorted(NEW_SECTIONS))
def test_section_follows_its_table(tmp_path, table):
    heading = f"<h2>{HEADINGS[NEW_SECTIONS[table]]}</h2>"
    tables = travel_tables()
    assert heading in render(tmp_path, {table: tables[table]}, accuracy=None, quality=[])
    others = {k: v for k, v in tables.items() if k != table}
    assert heading not in render(tmp_path, others, accuracy=None, quality=[])


def test_names_are_escaped(report):
    assert TRICKY_NAME not in report
    for anchor in ("tourism", "retail", "alerts"):
        assert ESCAPED_NAME in section_html(report, anchor)


@pytest.mark.parametrize("anchor", ["tourism", "retail"])
def test_choropleths_draw_one_path_per_area(report, anchor):
    html = section_html(report, anchor)
    assert len(re.findall(r'<path[^>]*class="area"', html)) == len(AREAS)
    assert 'fill="url(#too-few)"' in html  # a3 (tourism) and a2 (retail) have no value


def test_tourism_chart_lines_and_withheld_nights(report):
    html = section_html(report, "tourism")
    assert len(re.findall(r'<path d="[^"]*"[^>]*class="series"', html)) == 3
    assert "Domestic same-day" in html and "International" in html
    origins = {re.findall(r"<td[^>]*>(.*?)</td>", row)[1]: row for row in table_rows(html, "origins</h3>")}
    shanghai, france = '<span title="310000">Shanghai</span>', '<span title="FR">France</span>'
    assert set(origins) >= {shanghai, "110000", france, ESCAPED_NAME, "Area 1"}  # 110000 has no name
    assert "<td class=\"num\">withheld</td>" in origins[shanghai]
    assert ">0<" not in origins[shanghai]
    assert "≥ " in origins[ESCAPED_NAME]  # one day's nights withheld: a lower bound
    # Visitors of a0 from a0 itself (an area enclosing the one visited) are counted apart, not ranked.
    assert f"{4 * 30} visitors (sum of daily counts) whose home lies in the same {ESCAPED_NAME}" in html
    assert int(re.findall(r'<td class="num">([\d,]+)</td>', origins[ESCAPED_NAME])[1]) == 4 * (31 + 32)
    assert "a3: too few to show" in html or "Area 3: too few to show" in html


def test_one_sparkline_per_top_destination(report):
    html = section_html(report, "outbound-travel")
    rows = table_rows(html, "destinations by trips</h3>")
    assert len(rows) == 10  # twelve destinations, the top ten shown
    assert html.count('class="sparkline"') == len(rows)
    assert "France (FR)" in rows[0] and "▲ +25.0 %" in rows[0] and "(2026-W" not in rows[0]
    assert "(2026-W05)" in next(r for r in rows if "United Kingdom (GB)" in r)  # latest comparison is older
    assert "no comparison" in next(r for r in rows if "Spain (ES)" in r)
    germany = next(r for r in rows if "Germany (DE)" in r)
    spark = re.search(r'<path d="([^"]*)" class="spark"', germany).group(1)
    assert spark.count("M") == 2  # the missing week is a gap


def test_sparklines_follow_fewer_destinations(tmp_path):
    html = section_html(render(tmp_path, {"outbound-travel": outbound_table(DESTINATIONS[:3])}), "outbound-travel")
    assert html.count('class="sparkline"') == len(table_rows(html, "destinations by trips</h3>")) == 3


def test_high_spenders_ranked_with_currency_and_withheld(report):
    html = section_html(report, "outbound-travel")
    rows = table_rows(html, "High-spender destinations</h3>")
    names = [re.findall(r"<td[^>]*>(.*?)</td>", r)[1] for r in rows]
    assert names[0] == "Thailand (TH)" and "Japan (JP)" not in names  # highest mean spend first; JP withheld
    thailand = re.findall(r"<td[^>]*>(.*?)</td>", rows[0])
    assert thailand[3] == "3,750 CNY"
    us = next(r for r in rows if "United States (US)" in r)
    assert "withheld" in us and ">0<" not in us
    assert "Spend withheld in every week" in html and "Japan (JP)" in html


def test_retail_withheld_values_are_not_zeros(report):
    html = section_html(report, "retail")
    assert "2026-02" in html
    rows = table_rows(html, "ranked by opportunity")
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows]
    assert [c[1] for c in cells] == ["Area 1", ESCAPED_NAME, "Area 3", "Area 2"]  # unknown opportunity last
    assert cells[0][7] == "withheld"
    assert cells[-1][2] == "too few to show" and cells[-1][5] == "too few to show"
    assert "9.0 %" in html  # penetration as a percentage


def test_alerts_sorted_by_strength_with_arrows(report):
    html = section_html(report, "alerts")
    rows = table_rows(html, "<table>")
    scores = [re.findall(r"<td[^>]*>(.*?)</td>", r)[6] for r in rows]
    assert scores == ["-5.3", "+3.4", "+2.1"]
    assert "▼ below" in rows[0] and "▲ above" in rows[1]
    assert "France (FR)" in rows[1] and "outbound-travel › trips" in rows[1]
    assert "1.4826" in html and "median" in html


def test_nested_accuracy_is_flattened(report):
    html = section_html(report, "accuracy")
    assert "outbound › shock week detected</td><td class=\"num\">yes" in html
    assert "outbound › false alarm rate</td><td class=\"num\">0.01" in html
    assert "tourism › visitors abs pct › median" in html


def test_empty_tables_keep_their_sections(tmp_path):
    tables = {name: table.slice(0, 0) for name, table in travel_tables().items()}
    text = render(tmp_path, tables, accuracy=None, quality=[])
    for anchor in NEW_SECTIONS.values():
        assert f'<section id="{anchor}">' in text


def test_maps_without_geometry(tmp_path):
    areas = [dict(a, geometry=None) for a in grid_areas(4)]
    text = render(tmp_path, travel_tables(), areas=areas)
    for anchor in ("tourism", "retail"):
        assert "nothing to draw" in section_html(text, anchor)
