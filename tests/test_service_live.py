"""The live view over HTTP: /api/live and its server-sent events, against a real server and a real stream.

A landing-directory stream runs in a thread over a small workspace; the API's
answers must equal ``LiveView.snapshot(...)``, new events must reach an open
event stream, and the token's role and scope apply as on every other endpoint.
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from service_support import refused_callers

from popflow.live import LiveOptions, LiveView, run_stream
from popflow.service import ServiceConfig, create_app
from popflow.service.background import running
from popflow.service.tokens import TokenStore

import scenario
from scenario import phone
from test_live_support import settled

pytestmark = pytest.mark.timeout(120)
CALLERS = ("none", "bad", "expired", "revoked", "viewer", "analyst_out", "analyst", "admin", "city_only")
DENIED = (401, 401, 401, 401)
# path, expected status for each caller above, with a live snapshot published
LIVE_MATRIX = [
    ("/api/live", DENIED + (200, 403, 200, 200, 403)),
    ("/api/live?level=city", DENIED + (200, 403, 200, 200, 200)),
    ("/api/live/events?level=province&bin=latest", DENIED + (200, 403, 200, 200, 200)),
    ("/api/live/events", DENIED + (200, 403, 200, 200, 403)),
]


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("service-live")
    empty = pd.DataFrame(columns=["subscriber_id", "timestamp", "cell_id"])
    return scenario.workspace(folder, empty, scenario.subscribers(40), k=2)


@pytest.fixture(scope="module")
def tokens(ws):
    store = TokenStore(ws.path)
    made = {
        "admin": store.create("boss", "admin")[0],
        "analyst": store.create("ana", "analyst", ("present-population",), "district")[0],
        "analyst_out": store.create("narrow", "analyst", ("od-flows",))[0],
        "viewer": store.create("vic", "viewer")[0],
        "city_only": store.create("town", "viewer", min_level="city")[0],
    }
    return made | refused_callers(store)


@pytest.fixture(scope="module")
def server(ws, tokens):
    config = ServiceConfig(rate=1000, burst=1000, live_poll=0.05, live_keepalive=0.5)
    with running(create_app(ws, config), access_log=False) as url:
        yield url


@pytest.fixture(scope="module")
def landing(ws, server, tmp_path_factory):
    """A stream over an empty landing directory, running in a thread for the whole module."""
    folder = tmp_path_factory.mktemp("landing")
    stop = threading.Event()
    options = LiveOptions(checkpoint_every=0.2, poll=0.05, refresh=0.2)
    runner = threading.Thread(target=run_stream, args=(ws, f"dir:{folder}", options, stop))
    runner.start()
    yield folder
    stop.set()
    runner.join(30)


def headers(token: str | None) -> dict:
    return {"Authorization": f"Bearer {token}"} if token else {}


def land(folder: Path, name: str, people: range, cell: str, minute: int = 0) -> None:
    """Write a file of events (one per person, 08:mm local) and rename it into the landing directory."""
    lines = [f"{phone(i)},2026-01-20T08:{minute + i % 10:02d}:00+08:00,{cell}" for i in people]
    part = folder / f".{name}"
    part.write_text("subscriber_id,timestamp,cell_id\n" + "\n".join(lines) + "\n")
    part.rename(folder / name)


def as_json(snapshot) -> dict:
    """A snapshot as JSON, but its lag, which the API measures when asked (``lag_seconds``, ``clock_rate``)."""
    return without_lag(json.loads(json.dumps(snapshot.to_json())))


def without_lag(body: dict) -> dict:
    for key in ("lag_seconds", "clock_rate"):
        body["freshness"].pop(key, None)
    return body


def test_no_snapshot_yet_is_404(ws, server, tokens):
    for path in ("/api/live", "/api/live/events"):
        response = httpx.get(server + path, headers=headers(tokens["viewer"]), timeout=10)
        assert response.status_code == 404
        assert response.json() == {"detail": "no live stream has published a snapshot yet"}
    assert httpx.get(server + "/api/live", timeout=10).status_code == 401  # authentication comes first


def test_live_json_equals_the_live_view(ws, server, tokens, landing):
    view = LiveView(ws.path)
    land(landing, "events-1.csv", range(0, 12), "a1")
    settled(view)
    for query, kwargs in (("", {}), ("?bin=latest", {"bin": "latest"}), ("?level=city&by=gender",
                                                                          {"level": "city", "by": ("gender",)})):
        response = httpx.get(server + "/api/live" + query, headers=headers(tokens["viewer"]), timeout=10)
        assert response.status_code == 200, response.text
        body = response.json()
        # The lag is measured when asked, against the service's event clock (here the wall clock).
        newest = datetime.datetime.fromisoformat(body["freshness"]["newest_event"]).timestamp()
        assert abs(body["freshness"]["lag_seconds"] - (time.time() - newest)) < 5
        assert body["freshness"]["clock_rate"] == 1.0
        assert without_lag(body) == as_json(view.snapshot(**kwargs))
    body = httpx.get(server + "/api/live", headers=headers(tokens["viewer"]), timeout=10).json()
    assert [(c["area_id"], c["people"]) for c in body["cells"]] == [("A", 12)]
    assert body["freshness"]["levels"]["finest"] == "district" and body["freshness"]["published_at"]


def test_refused_parameters(server, tokens, landing):
    for query in ("?by=shoe_size", "?level=galaxy", "?by=gender,gender"):
        response = httpx.get(server + "/api/live" + query, headers=headers(tokens["admin"]), timeout=10)
        assert response.status_code == 400 and response.json()["detail"], query
    assert httpx.get(server + "/api/live?bin=first", headers=headers(tokens["admin"]), timeout=10).status_code == 422
    response = httpx.get(server + "/api/live/events?level=a%3Bb", headers=headers(tokens["admin"]), timeout=10)
    assert response.status_code == 400


def read_event(lines, timeout: float = 20.0) -> tuple[dict, int]:
    """The next ``data:`` event from an SSE line iterator, and how many keep-alive comments came first."""
    deadline, comments = time.monotonic() + timeout, 0
    for line in lines:
        assert time.monotonic() < deadline, "no event in time"
        if line.startswith(": keep-alive"):
            comments += 1
        elif line.startswith("data: "):
            return json.loads(line[len("data: "):]), comments
    raise AssertionError("the event stream ended")


def test_events_deliver_each_new_snapshot(ws, server, tokens, landing):
    view = LiveView(ws.path)
    before = settled(view)
    url = server + "/api/live/events?bin=latest"
    with httpx.stream("GET", url, headers=headers(tokens["viewer"]), timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        lines = response.iter_lines()
        first, _ = read_event(lines)
        assert without_lag(first) == as_json(view.snapshot(bin="latest"))
        _, comments = read_event_or_keepalive(lines)
        assert comments >= 1  # nothing new landed: the stream keeps the connection alive with comments
        land(landing, "events-2.csv", range(20, 28), "b1")
        settled(view, before)
        latest = as_json(view.snapshot(bin="latest"))
        event = first
        while without_lag(event) != latest:
            event, _ = read_event(lines)
        assert {c["area_id"]: c["people"] for c in event["cells"]} == {"A": 12, "B": 8}


def read_event_or_keepalive(lines) -> tuple[dict | None, int]:
    for line in lines:
        if line.startswith(": keep-alive"):
            return None, 1
        if line.startswith("data: "):
            return json.loads(line[len("data: "):]), 0
    raise AssertionError("the event stream ended")


def status(url: str, token: str | None, path: str) -> int:
    """The status of a GET (an event stream is closed as soon as its status is known)."""
    with httpx.stream("GET", url + path, headers=headers(token), timeout=20) as response:
        return response.status_code


@pytest.mark.parametrize(("path", "expected"), LIVE_MATRIX, ids=[p for p, _ in LIVE_MATRIX])
def test_live_authorization_matrix(server, tokens, landing, ws, path, expected):
    settled(LiveView(ws.path), quiet=0.2)
    got = tuple(status(server, tokens[who], path) for who in CALLERS)
    assert dict(zip(CALLERS, got, strict=True)) == dict(zip(CALLERS, expected, strict=True))


def test_live_matrix_and_auth_matrix_cover_every_live_endpoint(ws):
    paths = create_app(ws).openapi()["paths"]
    live = {path for path in paths if path.startswith("/api/live")}
    assert live == {p.split("?")[0] for p, _ in LIVE_MATRIX} == {"/api/live", "/api/live/events"}
    assert all(set(paths[p]) == {"get"} for p in live)


def test_revoked_token_stops_receiving(ws, server, landing):
    raw, _ = TokenStore(ws.path).create("short-lived", "viewer")
    with httpx.stream("GET", server + "/api/live/events", headers=headers(raw), timeout=20) as response:
        lines = response.iter_lines()
        read_event(lines)
        TokenStore(ws.path).revoke("short-lived")
        rest = list(lines)  # the server ends the stream: iteration finishes instead of timing out
    assert not any(line.startswith("data: ") for line in rest)


def test_rate_limit_applies(ws, landing):
    raw, _ = TokenStore(ws.path).create("hasty", "viewer")
    with running(create_app(ws, ServiceConfig(rate=0.01, burst=2)), access_log=False) as url:
        codes = [httpx.get(url + "/api/live", headers=headers(raw), timeout=10).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert status(url, raw, "/api/live/events") == 429


def test_a_token_whose_privacy_modes_leave_out_the_live_mode_is_refused(ws, server, landing):
    store = TokenStore(ws.path)
    dp_only = store.create("dp-only", "analyst", privacy_modes=("dp",))[0]
    k_too = store.create("k-too", "viewer", privacy_modes=("k", "ckm"))[0]
    settled(LiveView(ws.path), quiet=0.2)
    for path in ("/api/live", "/api/live/events"):
        assert status(server, k_too, path) == 200
        response = httpx.get(server + path, headers=headers(dp_only), timeout=10)
        assert response.status_code == 403
        assert response.json() == {"detail": "the live view is published in k mode, which this token may not read"}


def test_the_live_mode_is_the_published_snapshots(tmp_path):
    from test_live_engine import engine, message

    from test_live_support import with_settings

    ws = with_settings(scenario.workspace_without_events(tmp_path, people=60), default_privacy="ckm",
                       k_anonymity=5)
    live = engine(ws)
    live.process([message([(p, "08:10", "a1") for p in range(30)], "m")])
    live.commit()
    live.publish(force=True)
    live.close()
    store = TokenStore(ws.path)
    k_only, ckm = store.create("k-only", "viewer", privacy_modes=("k",))[0], store.create("c", "viewer")[0]
    with running(create_app(ws, ServiceConfig(rate=1000, burst=1000)), access_log=False) as url:
        response = httpx.get(url + "/api/live", headers=headers(ckm), timeout=10)
        assert response.status_code == 200 and response.json()["freshness"]["privacy"]["mode"] == "ckm"
        assert abs(response.json()["cells"][0]["people"] - 30) <= 3
        refused = httpx.get(url + "/api/live", headers=headers(k_only), timeout=10)
        assert refused.status_code == 403 and "published in ckm mode" in refused.json()["detail"]
