"""The dashboard's Live page in headless Chromium: no stream yet, then a live map that follows new snapshots.

A landing-directory stream runs in a thread over the 12-district grid of
test_dashboard_browser; the page must colour the areas the live view
publishes (hatching the rest) and update when new events land, with no reload.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import datetime
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

import popflow
from popflow.live import LiveOptions, LiveView, run_stream
from popflow.service import ServiceConfig, create_app
from popflow.service.background import running
from popflow.service.tokens import TokenStore

from browser_support import ARTIFACTS, browser_tab
from test_dashboard_browser import COLUMNS, ROWS, district, grid_inputs
from test_live_support import settled

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]
AREAS = COLUMNS * ROWS
K = 3
EVENTS_REQUEST = "/api/live/events"


class ReplayLikeClock:
    """The events' clock of a replay the test steers: stopped at ``at`` until ``run(rate)``."""

    def __init__(self, at: str):
        self.at, self.since, self.rate = datetime.datetime.fromisoformat(at).timestamp(), time.monotonic(), 0.0

    def now(self) -> float:
        return self.at + (time.monotonic() - self.since) * self.rate

    def run(self, rate: float) -> None:
        self.at, self.since, self.rate = self.now(), time.monotonic(), rate


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A served grid workspace with areas, cells and subscribers but no events, a viewer token, a landing dir."""
    folder = tmp_path_factory.mktemp("dashboard-live")
    paths = grid_inputs(folder / "inputs", people=60, days=1)
    ws = popflow.Workspace.init(folder / "ws", timezone="Asia/Shanghai", k=K)
    for source in ("areas", "cells", "subscribers"):
        ws.ingest(source, [paths[source]])
    raw, _ = TokenStore(ws.path).create("vic", "viewer")
    landing = folder / "landing"
    landing.mkdir()
    clock = ReplayLikeClock("2026-03-02T08:40:00+08:00")
    config = ServiceConfig(live_poll=0.1, event_clock=clock)
    with running(create_app(ws, config), access_log=False) as url:
        yield {"url": url, "token": raw, "ws": ws, "landing": landing, "clock": clock}


@pytest.fixture(scope="module")
def page(site):
    with browser_tab(console_errors=False) as tab:
        yield tab


def land(folder: Path, name: str, crowd: dict[str, int], first: int) -> None:
    """One event per person at 08:mm local in the given districts, written then renamed into place."""
    lines, person = [], first
    for area, count in crowd.items():
        for _ in range(count):
            lines.append(f"+86139{person:08d},2026-03-02T08:{person % 50:02d}:00+08:00,c{area}")
            person += 1
    part = folder / f".{name}"
    part.write_text("subscriber_id,timestamp,cell_id\n" + "\n".join(lines) + "\n")
    part.rename(folder / name)


def live_state(tab, condition: str, arg=None, timeout: int = 30000) -> dict:
    script = f"([arg]) => {{ const s = window.popflow.state('live'); return !!s && ({condition}); }}"
    try:
        tab.wait_for_function(script, arg=[arg], timeout=timeout)
    except PlaywrightTimeout:
        state = tab.evaluate("() => window.popflow.state('live')")
        raise AssertionError(f"live: {condition} with arg={arg} never held; state {state}; {tab.problems}") from None
    return tab.evaluate("() => window.popflow.state('live')")


def published(view: LiveView) -> dict[str, int]:
    return {c["area_id"]: c["people"] for c in view.snapshot(bin="latest").to_json()["cells"]}


def test_live_page_follows_the_stream(site, page):
    page.goto(site["url"] + "/")
    page.fill("#token", site["token"])
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_function("() => document.body.dataset.ready === 'map'", timeout=30000)
    page.click("#nav a[data-view=live]")
    page.wait_for_function("() => document.body.dataset.ready === 'live'", timeout=30000)
    state = live_state(page, "s.missing")
    assert (state["coloured"], state["suppressed"], state["plain"]) == (0, 0, AREAS)  # nothing hatched
    message = page.locator("#live-message")
    assert "No live stream yet" in message.text_content() and "nats://HOST:PORT/SUBJECT" in message.text_content()
    assert "…" not in message.text_content()
    assert message.evaluate("(e) => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-live-no-stream.png"))
    asked = lambda: sum(EVENTS_REQUEST in url for url in page.requests)  # noqa: E731
    page.wait_for_function(f"() => performance.getEntriesByType('resource')"
                           f".filter((e) => e.name.includes('{EVENTS_REQUEST}')).length >= 2", timeout=15000)
    page.click("#nav a[data-view=map]")
    page.wait_for_function("() => document.body.dataset.ready === 'map'", timeout=30000)
    left = asked()
    threading.Event().wait(4)  # longer than the page's retry interval
    assert asked() == left and not page.evaluate("() => window.popflow.state('live').listening")
    page.click("#nav a[data-view=live]")
    page.wait_for_function("() => document.body.dataset.ready === 'live'", timeout=30000)
    assert live_state(page, "s.missing && s.listening")
    page.problems.clear()  # the 404s of asking before any stream published

    stop = threading.Event()
    options = LiveOptions(checkpoint_every=0.2, poll=0.05, refresh=0.2)
    runner = threading.Thread(target=run_stream, args=(site["ws"], f"dir:{site['landing']}", options, stop))
    runner.start()
    try:
        view = LiveView(site["ws"].path)
        land(site["landing"], "events-1.csv", {district(0, 0): 10, district(1, 0): 6, district(2, 0): 2}, 0)
        first = published(view) if settled(view) else {}
        assert first == {district(0, 0): 10, district(1, 0): 6}  # the district with 2 people is suppressed
        state = live_state(page, "!s.missing && s.coloured === arg[0] && s.coloured + s.suppressed === arg[1]",
                           [len(first), AREAS])
        assert state["level"] == "district" and state["time"].startswith("2026-03-02T08:00:00")
        legend = page.locator("#live-legend")
        assert legend.locator("[data-min]").text_content() == "6"
        assert legend.locator("[data-max]").text_content() == "10"
        assert legend.locator("[data-shown]").text_content() == f"{len(first)} areas shown"
        assert legend.locator("[data-suppressed]").text_content().strip() == f"{AREAS - len(first)} too few to show"
        assert "2026-03-02 08:00" in page.text_content("#live-bin") and "(still open)" in page.text_content("#live-bin")
        # Lag against the events' clock (stopped at 08:40; the newest event is at 08:17), not the wall clock.
        assert "updated" in page.text_content("#live-fresh")
        assert "lag behind newest event 23 min" in page.text_content("#live-fresh")
        page.screenshot(path=str(ARTIFACTS / "dashboard-live.png"))

        updates = state["updates"]
        before = view.version()
        land(site["landing"], "events-2.csv", {district(0, 1): 5, district(1, 1): 7}, 20)
        second = published(view) if settled(view, before) else {}
        assert len(second) == len(first) + 2
        state = live_state(page, "s.coloured === arg[0] && s.updates > arg[1]", [len(second), updates])
        assert state["suppressed"] == AREAS - len(second) and state["max"] == 10 and state["min"] == 5
        page.screenshot(path=str(ARTIFACTS / "dashboard-live-updated.png"))

        page.select_option("#live-level", "city")
        cities = {c["area_id"]: c["people"] for c in view.snapshot(bin="latest", level="city").to_json()["cells"]}
        state = live_state(page, "s.level === 'city' && s.coloured === arg && s.coloured + s.suppressed === 3",
                           len(cities))
        assert state["max"] == max(cities.values())
        # The replay's last events are in; its clock runs on (1 h a second) and no newer events come to close
        # the bin: it is no longer "still open" but open with nothing arriving.
        site["clock"].run(3600.0)
        page.select_option("#live-level", "district")
        state = live_state(page, "s.level === 'district' && s.bin.includes('no newer events')", timeout=15000)
        assert "(still open)" not in state["bin"] and "replay clock, 3,600× real time" in state["fresh"]
        page.screenshot(path=str(ARTIFACTS / "dashboard-live-replay-ended.png"))
    finally:
        stop.set()
        runner.join(30)
    assert page.problems == []
    assert all(site["token"] not in url for url in page.requests)
    assert all(u.startswith((site["url"], "data:", "blob:")) for u in page.requests)
