"""Live alerts: published with the snapshot, from the stream's k-suppressed hourly history in the lake."""

from __future__ import annotations

import datetime

import httpx
import numpy as np
import pytest

import popflow
from popflow.live import LiveOptions, LiveView
from popflow.live.engine import LiveEngine
from popflow.live.wire import decode
from popflow.service import ServiceConfig, create_app
from popflow.service.background import running
from popflow.service.tokens import TokenStore

from browser_support import ARTIFACTS, browser_tab
from scenario import phone, workspace_without_events

HEADER = "subscriber_id,timestamp,cell_id\n"
START = datetime.datetime(2026, 1, 5)  # a Monday
DAYS = 38  # five weeks of history (baselines, then their noise), then the days scored


@pytest.fixture(scope="module")
def streamed(tmp_path_factory) -> popflow.Workspace:
    """Hourly crowds in districts A, B, C for five and a half weeks; on the last day at 10:00 A triples, C is empty."""
    ws = workspace_without_events(tmp_path_factory.mktemp("live-alerts"))
    live = LiveEngine(ws, LiveOptions(refresh=0.0, retain=2 * 86_400), "test:alerts")
    rng = np.random.default_rng(11)
    for day in range(DAYS):
        rows = []
        for hour in range(24):
            crowd = {cell: int(rng.poisson(30)) for cell in ("a1", "b1", "c1")}
            if day == DAYS - 1 and hour == 10:
                crowd["a1"], crowd["c1"] = 90, 0
            moment = START + datetime.timedelta(days=day, hours=hour, minutes=10)
            rows += [(person, moment, cell) for cell, count in crowd.items()
                     for person in range(100 * "abc".index(cell[0]), 100 * "abc".index(cell[0]) + count)]
        live.process([message(rows, f"day{day}")])
        live.commit()
    live.publish(force=True)
    live.close()
    return ws


def message(rows, origin: str):
    lines = [f"{phone(p)},{moment.isoformat()}+08:00,{cell}" for p, moment, cell in rows]
    return decode((HEADER + "\n".join(lines)).encode(), origin)


def test_an_area_breaking_its_hour_of_the_week_is_published_with_the_snapshot(streamed):
    alerts = LiveView(streamed).snapshot().freshness["alerts"]
    ten = (START + datetime.timedelta(days=DAYS - 1, hours=10)).isoformat() + "+08:00"
    found = {(a["time"], a["area_id"]): a for a in alerts}
    assert found[(ten, "A")]["direction"] == "up" and found[(ten, "A")]["value"] == 90
    empty = found[(ten, "C")]  # below k: censored, never an exact count
    assert empty["direction"] == "down" and empty["value"] is None and empty["below"] == 2
    assert {a["area_id"] for a in alerts} <= {"A", "B", "C"} and len(alerts) <= 4


def test_a_reader_sees_the_alerts_of_its_level_only(streamed):
    alerts = LiveView(streamed).snapshot(level="city").freshness["alerts"]
    assert {a["area_id"] for a in alerts} <= {"X", "Y"} and all(a["level"] == "city" for a in alerts)



@pytest.fixture(scope="module")
def served(streamed):
    """The streamed workspace served, with a viewer token."""
    raw, _ = TokenStore(streamed.path).create("ada", "viewer")
    with running(create_app(streamed, ServiceConfig(live_poll=0.1)), access_log=False) as url:
        yield url, raw


def test_get_api_live_includes_the_alerts_of_the_level_asked_for(served):
    url, raw = served
    body = httpx.get(f"{url}/api/live?bin=latest&level=district", headers={"Authorization": f"Bearer {raw}"}).json()
    assert {a["area_id"] for a in body["freshness"]["alerts"]} >= {"A", "C"}
    assert all(a["level"] == "" for a in body["freshness"]["alerts"])  # the finest areas


@pytest.mark.browser
def test_the_live_page_lists_the_alerts(served):
    url, raw = served
    with browser_tab() as page:
        page.goto(url + "/")
        page.fill("#token", raw)
        page.click("#sign-in-form button[type=submit]")
        page.wait_for_function("() => document.body.dataset.ready === 'map'", timeout=30000)
        page.click("#nav a[data-view=live]")
        page.wait_for_function("() => (window.popflow.state('live') || {}).alerts >= 2", timeout=30000)
        rows = page.locator("#live-alerts tbody tr").all_text_contents()
        assert any("Adistrict" in r and "▲ above" in r for r in rows)
        assert any("Cdistrict" in r and "▼ below" in r and "<2" in r for r in rows)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-live-alerts.png"), full_page=True)
        assert page.problems == []
