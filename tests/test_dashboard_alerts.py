"""The dashboard's alerts on the Travel page in headless Chromium: both directions, strongest first, a chart each.

A served workspace holds a weekly outbound-travel release and an alerts release derived from it (its
manifest's ``suppressed.derived_from``), stored as published releases are. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from popflow.service import ServiceConfig, create_app
from popflow.service.background import running
from popflow.service.tokens import TokenStore

from browser_support import ARTIFACTS, browser_tab, publish
from test_dashboard_browser import grid_areas_workspace

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]
K = 5
WATCHED, ALERTS = "20260410T080000-0000000a", "20260410T090000-0000000b"
WEEKS = [f"2026-W{w:02d}" for w in range(1, 15)]


def watched_table() -> pa.Table:
    """Weekly trips to FR (a jump in week 6) and KR (below k, so suppressed, from week 9)."""
    rows = [(week, "FR", 200 + 5 * w + (180 if w == 5 else 0)) for w, week in enumerate(WEEKS)]
    rows += [(week, "KR", 60 + w) for w, week in enumerate(WEEKS) if w < 8]
    week, country, trips = zip(*rows, strict=True)
    return pa.table({"week": week, "destination_country": country, "travellers": pa.array(trips, pa.int64()),
                     "trips": pa.array(trips, pa.int64())})


def alerts_table() -> pa.Table:
    return pa.table({"series": ["outbound-travel:trips"] * 2, "time": ["2026-W06", "2026-W09"], "key": ["FR", "KR"],
                     "value": [405.0, None], "below": [None, float(K)], "expected": [226.5, 67.0],
                     "score": [3.4, -6.1], "direction": ["up", "down"]})


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dashboard-alerts")
    ws = grid_areas_workspace(folder, K)
    publish(ws, WATCHED, "outbound-travel", {"outbound-travel": watched_table()}, {}, K,
            {"outbound-travel": {"cells_below_k": 6}})
    publish(ws, ALERTS, "alerts", {"alerts": alerts_table()}, {"indicator": "outbound-travel", "measure": "trips"}, K,
            {"derived_from": WATCHED})
    raw, _ = TokenStore(ws.path).create("ana", "analyst")
    with running(create_app(ws, ServiceConfig()), access_log=False) as url:
        yield {"url": url, "token": raw}


def test_travel_page_lists_alerts_both_ways_with_a_chart_each(site):
    with browser_tab() as tab:
        tab.goto(site["url"] + "/")
        tab.fill("#token", site["token"])
        tab.click("#sign-in-form button[type=submit]")
        tab.wait_for_selector("#nav a[data-view=travel]:not([hidden])")
        tab.click("#nav a[data-view=travel]")
        tab.wait_for_function("() => document.body.dataset.ready === 'travel'", timeout=30000)
        state = tab.evaluate("() => window.popflow.state('travel').alerts")
        assert state["directions"] == ["down", "up"] and state["scores"] == [-6.1, 3.4]
        assert state["charts"] == [1, 1]
        assert state["keys"] == ["South Korea", "France"]  # countries by name, the code in a tooltip
        assert tab.locator("#view-travel table.alerts tbody tr td[title=KR]").count() == 1
        rows = tab.locator("#view-travel table.alerts tbody tr")
        assert "▼ below" in rows.nth(0).inner_text() and "▲ above" in rows.nth(1).inner_text()
        assert rows.nth(0).locator("td").nth(3).inner_text() == f"<{K}"  # never a count
        assert rows.nth(0).locator("svg.alert-chart text").text_content() == f"<{K}"
        assert rows.nth(0).locator("svg.alert-chart .alert-point.censored").count() == 1
        assert rows.nth(0).locator("svg.alert-chart circle[r='1.8']").count() == 8  # KR's published weeks
        assert rows.nth(1).locator("svg.alert-chart circle[r='1.8']").count() == 9  # FR: 5 before, 4 after
        tab.locator("#view-travel .alerts-box").scroll_into_view_if_needed()
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / "dashboard-alerts.png"))
        assert tab.problems == []
