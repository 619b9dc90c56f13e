"""The report names what it shows: regions and areas by name (codes in tooltips), commuting between different
areas apart from working at home, area labels on maps, and data-quality cells that stay on one line."""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa
import pytest
from test_report import QUALITY, all_tables, grid_areas, render, section_html

from browser_support import browser_tab

AREAS = [f"a{i}" for i in range(4)]
ESCAPED = "Old &lt;Town&gt; &amp; Co"
REGIONS = {"north": "Northern Region", "south": "Southern Region"}
EVENTS_QUALITY = {"source": "events", "rows": {"read": 10_523_807, "accepted": 10_520_000, "quarantined": 3807},
                  "quarantined_by_reason": {"implausible_time": 7, "unknown_cell": 3800}, "distinct_people": 20_874,
                  "time_span": {"first": "2026-01-19T00:00:04+08:00", "last": "2026-02-22T23:59:58+08:00"},
                  "records_per_person": {"p10": 88.0, "p25": 210.0, "p50": 412.0, "p75": 611.5, "p90": 845.0,
                                         "p99": 1650.0}}


def nested_areas() -> list[dict]:
    """The grid's four districts inside one province P (which has no geometry)."""
    return [*({**a, "parent_id": "P"} for a in grid_areas(4)),
            {"area_id": "P", "name": "Lingnan Province", "parent_id": None, "level": "province", "geometry": None}]


def workers_table() -> pa.Table:
    """a0 and a1: most work where they live; flows a0 → a1 (30), a2 → a0 (20), a1 → a2 (18)."""
    pairs = [("a0", "a0", 60), ("a1", "a1", 45), ("a0", "a1", 30), ("a2", "a0", 20), ("a1", "a2", 18)]
    home, work, people = zip(*pairs, strict=True)
    return pa.table({"period": ["2026-02"] * len(pairs), "work_area_id": work, "home_area_id": home,
                     "people": pa.array(people, pa.int64())})


def tourism_table() -> pa.Table:
    """Two days in a0: visitors from the whole province P (largest), from a region elsewhere and from Japan."""
    rows = [(dt.date(2026, 1, 5) + dt.timedelta(days=d), "a0", kind, origin, visitors, nights)
            for d in range(2) for kind, origin, visitors, nights in (
                ("domestic_sameday", "P", 300, 0), ("domestic_overnight", "south", 40, 40),
                ("international", "JP", 25, 20))]
    date, area, kind, origin, visitors, nights = zip(*rows, strict=True)
    return pa.table({"date": pa.array(date, pa.date32()), "area_id": area, "visitor_type": kind, "origin": origin,
                     "visitors": pa.array(visitors, pa.int64()), "nights": pa.array(nights, pa.int64())})


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> str:
    tables = {**all_tables(AREAS), "workers": workers_table(), "tourism": tourism_table()}
    return render(tmp_path_factory.mktemp("names"), tables, areas=nested_areas(), quality=[*QUALITY, EVENTS_QUALITY],
                  regions=REGIONS)


def rows_after(html: str, heading: str) -> list[list[str]]:
    body = re.search(r"<tbody>(.*?)</tbody>", html[html.index(heading):], re.S).group(1)
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_arrivals_name_regions_with_codes_in_tooltips(report):
    html = section_html(report, "migration")
    labels = re.findall(r'class="tick"[^>]*>([^<]*)</text>', html)
    assert labels == ["Northern Region", "Southern Region"]  # north 45, south 30
    assert "<title>Northern Region (north): 45 people</title>" in html


def test_workers_commute_between_areas_and_share_working_at_home(report):
    html = section_html(report, "workers")
    flows = rows_after(html, "Commuting between areas")
    assert flows == [[ESCAPED, "Area 1", "30"], ["Area 2", ESCAPED, "20"], ["Area 1", "Area 2", "18"]]
    assert all(row[0] != row[1] for row in flows)
    at_home = rows_after(html, "Working in their home area")
    assert at_home == [[ESCAPED, "90", "60", "66.7 %"], ["Area 1", "63", "45", "71.4 %"],
                       ["Area 2", "20", "too few to show", "too few to show"]]
    assert f"{100 * 105 / 173:.1f} % of the workers in published cells in 2026-02 work in the area" in html


def test_top_origins_leave_out_the_enclosing_region(report):
    html = section_html(report, "tourism")
    origins = [row[1] for row in rows_after(html, "origins</h3>")]
    assert origins == ['<span title="south">Southern Region</span>', '<span title="JP">Japan</span>']
    assert "600 visitors (sum of daily counts) whose home lies in the same Lingnan Province" in html


def test_maps_label_their_areas(report):
    for anchor in ("residents", "od-flows"):
        labels = re.findall(r'<text[^>]*class="area-label"[^>]*>([^<]*)</text>', section_html(report, anchor))
        assert sorted(labels) == sorted([ESCAPED, "Area 1", "Area 2", "Area 3"])


def test_records_per_person_one_number_per_cell(report):
    rows = rows_after(section_html(report, "data-quality"), "Records per person")
    assert rows == [["events", "—", "—", "27", "—", "40.5", "—"],
                    ["events", "88", "210", "412", "611.5", "845", "1,650"]]


@pytest.mark.browser
def test_data_quality_cells_stay_short_in_a_browser(report, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(report, encoding="utf-8")
    with browser_tab() as tab:
        tab.goto(path.as_uri())
        lines = tab.evaluate("""() => [...document.querySelectorAll('#data-quality td')].map((td) => {
            const line = parseFloat(getComputedStyle(td).lineHeight);
            const pad = parseFloat(getComputedStyle(td).paddingTop) + parseFloat(getComputedStyle(td).paddingBottom);
            return Math.round((td.getBoundingClientRect().height - pad) / line); })""")
    assert lines and max(lines) <= 2
