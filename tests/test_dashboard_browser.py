"""The dashboard end to end in headless Chromium: sign in, map, time, indicator, flows, breakdowns.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` package;
browser downloads are never used. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

import popflow
from popflow.service.background import free_port
from popflow.service.tokens import TokenStore

from browser_support import ARTIFACTS, browser_tab

MARKER = "browser: end-to-end tests in headless Chromium (Debian chromium + playwright)"


def _register_marker() -> None:
    """Declare the ``browser`` marker from this module (no conftest): ``pytest -m "not browser"`` skips these.

    Uses the running config that ``pytest.mark`` holds; without one (e.g. plain import) nothing happens.
    """
    config = getattr(pytest.mark, "_config", None)
    if config is not None and not any(line.startswith("browser:") for line in config.getini("markers")):
        config.addinivalue_line("markers", MARKER)


_register_marker()
pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
COLUMNS, ROWS = 4, 3  # a grid of 12 districts in 3 cities (one per row) of one province


def district(col: int, row: int) -> str:
    return f"D{row}{col}"


def grid_areas() -> dict:
    features = [{"type": "Feature", "properties": {"area_id": "P", "name": "Province", "level": "province"},
                 "geometry": None}]
    for row in range(ROWS):
        features.append({"type": "Feature", "properties": {"area_id": f"C{row}", "name": f"City {row}",
                                                           "parent_id": "P", "level": "city"}, "geometry": None})
        for col in range(COLUMNS):
            x, y = 100 + col * 0.1, 30 + row * 0.1
            ring = [[x, y], [x + 0.1, y], [x + 0.1, y + 0.1], [x, y + 0.1], [x, y]]
            features.append({"type": "Feature", "properties": {
                "area_id": district(col, row), "name": f"District {row}-{col}", "parent_id": f"C{row}",
                "level": "district"}, "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return {"type": "FeatureCollection", "features": features}


def grid_inputs(folder: Path, people: int = 240, days: int = 10, seed: int = 3) -> dict[str, Path]:
    """Areas, one cell per district, subscribers and events; busy districts on the left, quiet ones right."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    cells = pd.DataFrame([{"cell_id": f"c{district(c, r)}", "latitude": 30.05 + r * 0.1, "longitude": 100.05 + c * 0.1}
                          for r in range(ROWS) for c in range(COLUMNS)])
    weights = np.array([4.0, 3.0, 1.0, 0.25] * ROWS)
    home = rng.choice(len(cells), people, p=weights / weights.sum())
    work = rng.choice(len(cells), people, p=weights / weights.sum())
    records = []
    start = pd.Timestamp("2026-03-02", tz="UTC")
    for person in range(people):
        for day in range(days):
            for hour in rng.choice(24, 6, replace=False):
                where = work[person] if 9 <= hour < 17 and day % 7 < 5 else home[person]
                if rng.random() < 0.2:
                    where = rng.integers(len(cells))
                ts = start + pd.Timedelta(days=day, hours=int(hour), minutes=int(rng.integers(60)))
                records.append((f"+86139{person:08d}", ts.strftime("%Y-%m-%dT%H:%M:%SZ"), cells.cell_id[where]))
    paths = {name: folder / f"{name}.csv" for name in ("cells", "events", "subscribers")}
    paths["areas"] = folder / "areas.geojson"
    paths["areas"].write_text(json.dumps(grid_areas()))
    cells.to_csv(paths["cells"], index=False)
    pd.DataFrame(records, columns=["subscriber_id", "timestamp", "cell_id"]).to_csv(paths["events"], index=False)
    pd.DataFrame({"subscriber_id": [f"+86139{p:08d}" for p in range(people)],
                  "gender": rng.choice(["F", "M"], people), "birth_year": rng.integers(1950, 2005, people),
                  "origin_region": rng.choice(["110000", "440000", "510000"], people)}).to_csv(
        paths["subscribers"], index=False)
    return paths


def grid_areas_workspace(folder: Path, k: int) -> popflow.Workspace:
    """A workspace holding the grid's areas only, for pages drawn from hand-made published releases."""
    ws = popflow.Workspace.init(folder / "ws", timezone="Asia/Shanghai", k=k)
    ws.ingest("areas", [grid_inputs(folder / "inputs", people=20, days=1)["areas"]])
    return ws


def grid_workspace(folder: Path) -> popflow.Workspace:
    paths = grid_inputs(folder / "inputs")
    ws = popflow.Workspace.init(folder / "ws", timezone="Asia/Shanghai", k=5)
    for source in ("areas", "cells", "subscribers", "events"):
        ws.ingest(source, [paths[source]])
    return ws


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """``popflow serve`` in a subprocess over a 12-district workspace with a few releases, and a token."""
    folder = tmp_path_factory.mktemp("dashboard")
    ws = grid_workspace(folder)
    releases = {"presence": ws.run("present-population", who="setup"),
                "presence_city": ws.run("present-population", level="city", who="setup"),
                "residents": ws.run("residents", who="setup"),
                "residents_by": ws.run("residents", by="gender", who="setup"),
                "flows": ws.run("od-flows", who="setup")}
    raw, _ = TokenStore(ws.path).create("ana", "analyst")
    port = free_port()
    log = folder / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "popflow.service", "serve", "--port", str(port),
                                    "-w", str(ws.path)], stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, process)
    yield {"url": url, "token": raw, "releases": {k: r.manifest["release_id"] for k, r in releases.items()},
           "tables": {k: r.table.to_pandas() for k, r in releases.items()}, "log": log, "ws": ws}
    process.terminate()
    process.wait(10)


def wait_until_up(url: str, process) -> None:
    for _ in range(400):
        assert process.poll() is None, "popflow serve exited"
        try:
            httpx.get(url + "/api/health", timeout=1)
            return
        except httpx.HTTPError:
            threading.Event().wait(0.05)
    raise AssertionError("popflow serve did not start")


@pytest.fixture(scope="module")
def page(site):
    with browser_tab() as tab:
        yield tab


def shot(tab, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"))


def wait_state(tab, view: str, condition: str, arg=None, timeout: int = 30000):
    """Wait until ``condition`` (a JS expression over ``s``, the view's state, and ``arg``) holds."""
    try:
        script = f"([arg]) => {{ const s = window.popflow.state('{view}'); return !!s && ({condition}); }}"
        tab.wait_for_function(script, arg=[arg], timeout=timeout)
    except PlaywrightTimeout:
        state = tab.evaluate(f"() => window.popflow.state('{view}')")
        raise AssertionError(f"{view}: {condition} with arg={arg} never held; state {state}; {tab.problems}") from None
    return tab.evaluate(f"() => window.popflow.state('{view}')")


def open_view(tab, view: str):
    tab.click(f"#nav a[data-view={view}]")
    tab.wait_for_function(f"() => document.body.dataset.ready === '{view}'", timeout=30000)


def published_at(table: pd.DataFrame, time_column: str, value) -> int:
    return int((table[time_column].astype(str) == value).sum()) if value is not None else len(table)


def iso(value) -> str:
    text = pd.Timestamp(value).isoformat()
    return re.sub(r"\.\d+", "", text)


def test_sign_in(site, page):
    page.goto(site["url"] + "/")
    page.fill("#token", "pf_not-a-real-token")
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('sign-in-error').textContent.length > 0")
    assert "not accepted" in page.text_content("#sign-in-error")
    assert page.problems == ["Failed to load resource: the server responded with a status of 401 (Unauthorized)"]
    page.problems.clear()
    shot(page, "sign-in")
    page.fill("#token", site["token"])
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_function("() => document.body.dataset.ready === 'map'", timeout=30000)
    assert page.text_content("#who") == "ana · analyst"
    assert page.evaluate("() => sessionStorage.getItem('popflow.token')") == site["token"]


def test_map_colours_published_areas_and_hatches_the_rest(site, page):
    table = site["tables"]["presence"]
    times = sorted(table["time"].map(iso).unique())
    state = wait_state(page, "map", "s.release === arg && s.coloured + s.suppressed === 12",
                       site["releases"]["presence"])
    assert state["indicator"] == "present-population" and state["level"] == "district"
    assert state["times"] == len(times) and state["time"] == times[0]
    expected = int((table["time"].map(iso) == times[0]).sum())
    assert (state["coloured"], state["suppressed"]) == (expected, 12 - expected)
    assert 0 < expected < 12  # some districts too quiet: drawn hatched, not as zero
    legend = page.locator("#map-legend")
    assert legend.locator("[data-min]").text_content() == str(table["people"].min())
    assert legend.locator("[data-max]").text_content() == str(table["people"].max())
    assert legend.locator("[data-shown]").text_content() == f"{expected} areas shown"
    assert legend.locator("[data-suppressed]").text_content().strip() == f"{12 - expected} too few to show"
    first = table[table["time"].map(iso) == times[0]].set_index("area_id")["people"]
    for area in ("D00", "D03"):  # hover details: the value, or "too few to show" for a suppressed cell
        popup = hover(page, area)
        assert f"District {area[1]}-{area[2]}" in popup
        assert (f"{first[area]} people" in popup) if area in first else ("too few to show" in popup)
    shot(page, "map")


def hover(tab, area_id: str) -> str:
    """Move the mouse over an area's label point and return the popup's text."""
    x, y = tab.evaluate("""(id) => { const m = window.popflow.views.map.area;
        const p = m.map.project(m.labels.get(id)); const r = m.map.getCanvas().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y]; }""", area_id)
    tab.mouse.move(x, y)
    tab.wait_for_function("(id) => (document.querySelector('.maplibregl-popup-content') || {}).textContent"
                          "?.includes(id)", arg=area_id, timeout=10000)
    return tab.text_content(".maplibregl-popup-content")


def test_time_slider_and_play(site, page):
    table = site["tables"]["presence"]
    times = sorted(table["time"].map(iso).unique())
    busiest = max(range(len(times)), key=lambda i: (table["time"].map(iso) == times[i]).sum())
    page.locator("#map-time").fill(str(busiest))
    expected = published_at(table.assign(time=table["time"].map(iso)), "time", times[busiest])
    state = wait_state(page, "map", "s.timeIndex === arg[0] && s.coloured === arg[1]", [busiest, expected])
    assert state["time"] == times[busiest]
    assert page.text_content("#map-time-label").startswith(times[busiest][:10])
    shot(page, "map-time")
    page.click("#map-play")
    wait_state(page, "map", "s.timeIndex >= arg + 2", busiest)
    page.click("#map-play")


def test_change_indicator(site, page):
    page.select_option("#map-indicator", "residents")
    table = site["tables"]["residents"]
    state = wait_state(page, "map", "s.release === arg[0] && s.coloured === arg[1]",
                       [site["releases"]["residents"], int((table["period"] == table["period"].min()).sum())])
    assert state["indicator"] == "residents" and state["time"] == table["period"].min()
    assert page.text_content("#map-legend .title") == "residents: people"
    shot(page, "map-residents")


def test_level_switch_creates_a_missing_release(site, page):
    page.select_option("#map-level", "city")
    page.wait_for_selector("#map-message button", timeout=30000)
    assert "No published release of residents at level city" in page.text_content("#map-message")
    page.click("#map-message button")
    condition = "s.level === 'city' && s.release && s.coloured >= 1 && s.coloured + s.suppressed === 3"
    state = wait_state(page, "map", condition, timeout=60000)
    assert state["release"] not in site["releases"].values()
    shot(page, "map-city")


def test_flows(site, page):
    open_view(page, "flows")
    table = site["tables"]["flows"]
    pairs = table[table.origin != table.destination].groupby(["origin", "destination"]).size()
    state = wait_state(page, "flows", "s.rows === arg && s.flows > 0", min(20, len(pairs)))
    assert state["release"] == site["releases"]["flows"] and state["lines"] == min(20, len(pairs))
    page.fill("#flows-top", "5")
    page.dispatch_event("#flows-top", "change")
    state = wait_state(page, "flows", "s.rows === 5 && s.lines === 5")
    top = page.locator("#flows-table tbody tr").first.locator("td").nth(3).text_content()
    measure = page.input_value("#flows-measure")
    assert int(top.replace(",", "")) == int(table[table.origin != table.destination]
                                            .groupby(["origin", "destination"])[measure].sum().max())
    shot(page, "flows")


def test_breakdowns(site, page):
    open_view(page, "breakdowns")
    state = wait_state(page, "breakdowns", "s.charts.length > 0")
    release, table_name = state["release"].split("|")
    assert release == site["releases"]["residents_by"] and table_name == "residents"
    assert [c["column"] for c in state["charts"]] == ["gender"]
    table = site["tables"]["residents_by"]
    cells = table[(table.area_id == state["area"]) & (table.period == state["time"])]
    assert state["charts"][0]["values"] == [int(v) for v in cells.groupby("gender")["people"].sum()]
    assert page.locator("#bd-charts .chart canvas").count() == 1
    shot(page, "breakdowns")


def test_releases_and_topic_pages(site, page):
    open_view(page, "releases")
    listed = httpx.get(site["url"] + "/api/releases", headers={"Authorization": f"Bearer {site['token']}"}).json()
    assert page.locator("#releases-table tbody tr").count() == len(listed)
    shot(page, "releases")
    names = {i["name"] for i in httpx.get(site["url"] + "/api/indicators",
                                          headers={"Authorization": f"Bearer {site['token']}"}).json()}
    for view, indicator in (("tourism", "tourism"), ("travel", "outbound-travel"), ("retail", "sales-penetration")):
        assert page.locator(f"#nav a[data-view={view}]").is_visible() == (indicator in names)
    assert not page.locator("#nav a[data-view=audit]").is_visible()  # admins only
    if "tourism" in names:
        open_view(page, "tourism")
        page.wait_for_selector("#tourism-map canvas")
        shot(page, "tourism")


def test_switching_level_clears_the_hover_box(site, page):
    open_view(page, "map")
    page.select_option("#map-indicator", "present-population")
    wait_state(page, "map", "s.level === 'district' && s.release === arg", site["releases"]["presence"])
    assert "District 0-0" in hover(page, "D00")
    assert wait_state(page, "map", "s.popups === 1")["popups"] == 1
    page.select_option("#map-level", "city")
    state = wait_state(page, "map", "s.level === 'city' && s.release === arg", site["releases"]["presence_city"])
    assert state["popups"] == 0 and page.locator(".maplibregl-popup").count() == 0


def test_release_labels_name_what_differs_in_human_units(site, page):
    for parameters in ({"method": "observed", "carry": 3}, {"method": "observed"}, {"bin": "3h"}):
        site["ws"].run("present-population", who="setup", **parameters)
    page.reload()
    page.wait_for_function("() => document.body.dataset.ready === 'map'", timeout=30000)
    page.select_option("#map-indicator", "present-population")
    page.select_option("#map-level", "district")
    labels = wait_state(page, "map", "s.level === 'district' && s.releaseLabels.length === 4")["releaseLabels"]
    assert len(set(labels)) == 4
    assert all(" · no breakdown · " in label for label in labels)
    assert sum("carry 3 h" in label for label in labels) == 1 and sum("carry 0 h" in label for label in labels) == 3
    assert sum("bin 3 h" in label for label in labels) == 1 and sum("bin 1 h" in label for label in labels) == 3
    assert sum("method observed" in label for label in labels) == 2
    assert not any("=" in label or "10800" in label or "max gap" in label for label in labels)  # same in all four
    order = page.evaluate("""async () => (await import('/static/js/model.js'))
        .distinct(['80+', 'unknown', '<15', '20-24', '15-19'].map((v) => ({ v })), 'v')""")
    assert order == ["<15", "15-19", "20-24", "80+", "unknown"]
    shot(page, "map-release-labels")
    open_view(page, "releases")
    parameters = page.locator("#releases-table tbody tr td:nth-child(3)").all_text_contents()
    assert any("carry 3 h" in p and "bin 1 h" in p and "max gap 12 h" in p for p in parameters)
    assert not any("=" in p or "10800" in p or "43200" in p for p in parameters)


def test_everything_is_served_locally_and_quietly(site, page):
    outside = [u for u in page.requests if not u.startswith((site["url"], "data:", "blob:"))]
    assert outside == []
    assert page.problems == []
    text = site["log"].read_text()
    assert site["token"] not in text and "GET /api/me" in text
