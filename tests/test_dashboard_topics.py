"""Topic pages and breakdowns in headless Chromium, over published releases of hand-made tables: names instead
of codes (areas, regions, countries; codes in tooltips), money with its currency, shares and changes as
percentages, a destination's weekly trips beside the same weeks a year earlier, age bands in reading order,
Tourism starting at the largest origin. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import pyarrow as pa
import pytest

from popflow.service import ServiceConfig, create_app
from popflow.service.background import running
from popflow.service.tokens import TokenStore

from browser_support import ARTIFACTS, browser_tab, publish
from test_dashboard_browser import district, grid_areas_workspace

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]
K = 5
TRAVEL, TOURISM, AGES, MIGRATION, RETAIL = (f"20260410T0800{n:02d}-000000{n:02d}" for n in range(1, 6))
WEEKS = [f"2025-W{w:02d}" for w in range(1, 53)] + [f"2026-W{w:02d}" for w in range(1, 15)]
AGE_BANDS = ["15-19", "20-24", "80+", "<15", "unknown"]  # as a text sort would put them


def trips(country: str, week: str) -> int | None:
    """FR grows a little; JP collapses in 2026 below k (suppressed)."""
    n = WEEKS.index(week)
    if country == "JP":
        return None if week >= "2026-W06" else 60 + n % 7
    return 300 + 2 * n


def outbound_table() -> pa.Table:
    rows = []
    for week in WEEKS:
        for country in ("FR", "JP"):
            count = trips(country, week)
            earlier = f"{int(week[:4]) - 1}{week[4:]}"
            before = trips(country, earlier) if earlier in WEEKS else None
            change = None if count is None or before is None else count / before - 1
            rows.append((week, country, count, None if count is None else count - 7,
                         None if count is None else count * 5300.5, 900.0, 0.125, change, 0.028, "CNY"))
    columns = ("week", "destination_country", "trips", "travellers", "spend_total", "spend_median", "premium_share",
               "change_vs_prev_year", "change_vs_prev_4w", "currency")
    types = (pa.string(), pa.string(), pa.int64(), pa.int64(), *[pa.float64()] * 5, pa.string())
    return pa.table({c: pa.array(v, t) for c, v, t in zip(columns, zip(*rows, strict=True), types, strict=True)})


def tourism_table() -> pa.Table:
    """Same-day visitors from the whole province (most), overnight ones from Guangdong, Japanese in three areas."""
    districts = [district(c, r) for r in range(3) for c in range(4)]
    rows = [(day, area, kind, origin, visitors, nights) for day in ("2026-03-02", "2026-03-03")
            for kind, origin, visitors, nights, areas in (("domestic_sameday", "P", 40, 0, districts[:10]),
                                                         ("domestic_overnight", "440000", 20, 20, districts[:4]),
                                                         ("international", "JP", 15, 12, districts[:3]))
            for area in areas]
    names = ("date", "area_id", "visitor_type", "origin", "visitors", "nights")
    return pa.table(dict(zip(names, zip(*rows, strict=True), strict=True)))


def ages_table() -> pa.Table:
    rows = [("2026-03-02T08:00:00+08:00", area, band, 10 + i) for area in ("D00", "D01")
            for i, band in enumerate(AGE_BANDS)]
    return pa.table(dict(zip(("time", "area_id", "age_band", "people"), zip(*rows, strict=True), strict=True)))


def arrivals_table() -> pa.Table:
    return pa.table({"period_from": ["2026-02"] * 2, "period_to": ["2026-03"] * 2, "to_area": ["D00", "D00"],
                     "origin_region": ["430000", "440000"], "people": pa.array([30, 20], pa.int64())})


def moves_table() -> pa.Table:
    return pa.table({"period_from": ["2026-02"], "period_to": ["2026-03"], "from_area": ["D01"], "to_area": ["D00"],
                     "people": pa.array([25], pa.int64())})


def retail_table() -> pa.Table:
    """One month: D00 has the most room to grow, D02's potential was withheld, D03 has the highest penetration."""
    rows = [("2026-03", "D00", 40, 30, 900.5, 0.5, 600.0, 0.05, 570.0),
            ("2026-03", "D01", 40, 35, 800.0, 0.4, 300.0, 35 / 300, 265.0),
            ("2026-03", "D02", 30, 20, 700.0, 0.3, None, None, None),
            ("2026-03", "D03", 50, 45, 1200.0, 0.6, 100.0, 0.45, 55.0)]
    names = ("month", "region_id", "orders", "buyers", "revenue", "online_share", "potential", "penetration",
             "opportunity")
    return pa.table(dict(zip(names, zip(*rows, strict=True), strict=True)))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dashboard-topics")
    ws = grid_areas_workspace(folder, K)
    (folder / "regions.csv").write_text("code,name\n430000,Hunan\n440000,Guangdong\n")
    ws.ingest("regions", [folder / "regions.csv"])
    publish(ws, TRAVEL, "outbound-travel", {"outbound-travel": outbound_table()}, {}, K,
            window=("2025-01-01", "2026-04-05"))
    publish(ws, TOURISM, "tourism", {"tourism": tourism_table()}, {"bin": 3600}, K)
    publish(ws, AGES, "present-population", {"present-population": ages_table()}, {"by": ["age_band"], "bin": 3600},
            K)
    publish(ws, MIGRATION, "migration", {"migration": moves_table(), "arrivals": arrivals_table()}, {"by": []}, K)
    publish(ws, RETAIL, "sales-penetration", {"sales-penetration": retail_table()}, {"rank": "opportunity"}, K)
    raw, _ = TokenStore(ws.path).create("ana", "analyst")
    with running(create_app(ws, ServiceConfig()), access_log=False) as url:
        with browser_tab() as tab:
            tab.goto(url + "/")
            tab.fill("#token", raw)
            tab.click("#sign-in-form button[type=submit]")
            tab.wait_for_function("() => document.body.dataset.ready === 'map'", timeout=30000)
            yield tab


def open_view(tab, view: str) -> dict:
    tab.click(f"#nav a[data-view={view}]")
    tab.wait_for_function(f"() => document.body.dataset.ready === '{view}'", timeout=30000)
    return tab.evaluate(f"() => window.popflow.state('{view}')")


def test_travel_money_percentages_names_and_a_year_earlier(site):
    state = open_view(site, "travel")
    assert state["headers"][:5] == ["week", "destination country", "trips", "travellers", "spend total"]
    latest = {row[1]: [cell.replace("\xa0", " ") for cell in row] for row in state["cells"]}
    assert set(latest) == {"France"}  # Japan's trips were too few to publish in the latest week
    fr = latest["France"]
    trips_fr = trips("FR", WEEKS[-1])
    assert fr[2] == f"{trips_fr:,}" and fr[4] == f"CNY {trips_fr * 5300.5:,.2f}" and fr[5] == "CNY 900.00"
    assert fr[6] == "12.5 %" and fr[8] == "+2.8 %" and fr[9] == "CNY"
    change = trips_fr / trips("FR", "2025-W14") - 1
    assert fr[7] == f"+{100 * change:.1f} %"
    assert site.get_attribute("#view-travel [data-table] tbody td[title]", "title") == "FR"
    trend = state["trend"]
    assert trend["key"] == "FR" and trend["periods"][0] == "2025-W15" and trend["periods"][-1] == WEEKS[-1]
    assert len(trend["periods"]) == 52
    assert trend["earlier"][-14:] == [trips("FR", f"2025-W{w:02d}") for w in range(1, 15)]
    assert all(v is None for v in trend["earlier"][:-14])  # 2024 is not in the release
    site.select_option("#view-travel [data-key]", "JP")
    trend = site.evaluate("() => window.popflow.state('travel').trend")
    assert trend["current"][-9:] == [None] * 9 and trend["earlier"][-9] == trips("JP", "2025-W06")
    site.select_option("#view-travel [data-key]", "FR")
    options = site.evaluate("() => [...document.querySelectorAll('#view-travel [data-key] option')]"
                            ".map((o) => [o.textContent, o.title])")
    assert options == [["France", "FR"], ["Japan", "JP"]]
    ARTIFACTS.mkdir(exist_ok=True)
    site.screenshot(path=str(ARTIFACTS / "dashboard-travel.png"), full_page=True)


def test_tourism_starts_at_the_largest_origin_named(site):
    state = open_view(site, "tourism")
    state = site.evaluate("() => window.popflow.state('tourism')")
    assert state["filters"] == {"visitor_type": "domestic_sameday", "origin": "P"}
    assert (state["coloured"], state["suppressed"]) == (10, 2)
    options = site.evaluate("() => [...document.querySelectorAll('#tourism-filters select[data-column=origin] "
                            "option')].map((o) => [o.value, o.textContent, o.title])")
    assert options == [["440000", "Guangdong", "440000"], ["JP", "Japan", "JP"], ["P", "Province", "P"]]
    assert "visitor type" in site.text_content("#tourism-filters")
    site.screenshot(path=str(ARTIFACTS / "dashboard-tourism-origin.png"))


def test_breakdowns_age_bands_in_reading_order_and_regions_by_name(site):
    open_view(site, "breakdowns")
    labels = site.evaluate("() => [...document.querySelectorAll('#bd-release option')]"
                           ".map((o) => [o.value, o.textContent])")
    by_value = dict(labels)
    assert by_value[f"{AGES}|present-population"].endswith("by age band")
    assert by_value[f"{MIGRATION}|arrivals"].endswith("arrivals by origin region")
    assert f"{MIGRATION}|migration" not in by_value  # no breakdown to chart
    site.select_option("#bd-release", f"{AGES}|present-population")
    site.wait_for_function("() => window.popflow.state('breakdowns').charts[0]?.column === 'age_band'")
    chart = site.evaluate("() => window.popflow.state('breakdowns').charts[0]")
    assert chart["categories"] == ["<15", "15-19", "20-24", "80+", "unknown"]
    assert chart["values"] == [13, 10, 11, 12, 14]
    site.screenshot(path=str(ARTIFACTS / "dashboard-breakdowns-ages.png"))
    site.select_option("#bd-release", f"{MIGRATION}|arrivals")
    site.wait_for_function("() => window.popflow.state('breakdowns').charts[0]?.column === 'origin_region'")
    chart = site.evaluate("() => window.popflow.state('breakdowns').charts[0]")
    assert chart["names"] == ["Hunan", "Guangdong"] and chart["values"] == [30, 20]
    assert site.problems == []


def test_retail_ranks_regions_by_opportunity_beside_a_named_map(site):
    open_view(site, "retail")
    state = site.evaluate("() => window.popflow.state('retail')")
    assert state["measure"] == "penetration" and state["coloured"] == 3
    ranking = state["ranking"]
    assert [row[:4] for row in ranking] == [
        ["1", "District 0-0", "570", "5.0 %"], ["2", "District 0-1", "265", "11.7 %"],
        ["3", "District 0-3", "55", "45.0 %"], ["4", "District 0-2", "too few", "too few"]]
    names = site.evaluate("() => [...document.querySelectorAll('#retail-map .area-name')].map((e) => e.textContent)")
    assert len(names) == 12 and "District 2-3" in names
    site.screenshot(path=str(ARTIFACTS / "dashboard-retail.png"))
