"""Tokens and the authorization matrix: every endpoint × every kind of caller, and no token in any log."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner
from service_support import refused_callers

from popflow.service import ServiceConfig, create_app
from popflow.service.background import free_port, running
from popflow.service.commands import token as token_group
from popflow.service.tokens import TokenStore, digest

import scenario

pytestmark = pytest.mark.timeout(180)
CALLERS = ("none", "bad", "expired", "revoked", "viewer", "analyst_out", "analyst", "admin")


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("service-auth")
    return scenario.workspace(folder, scenario.random_events(60, 40, 12), scenario.subscribers(60), k=2)


@pytest.fixture(scope="module")
def tokens(ws):
    store = TokenStore(ws.path)
    made = {
        "admin": store.create("boss", "admin")[0],
        "analyst": store.create("ana", "analyst", ("present-population", "od-flows"), "district")[0],
        "analyst_out": store.create("narrow", "analyst", ("od-flows",), "city")[0],
        "viewer": store.create("vic", "viewer")[0],
    }
    return made | refused_callers(store)


@pytest.fixture(scope="module")
def server(ws, tokens):
    with running(create_app(ws, ServiceConfig(rate=1000, burst=1000)), access_log=False) as url:
        yield url


def call(url: str, token: str | None, method: str, path: str, body: dict | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, url + path, headers=headers, json=body, timeout=30)


@pytest.fixture(scope="module")
def ids(ws, server, tokens):
    """A district-level present-population release and a job of the analyst."""
    release = ws.run("present-population", who="setup").manifest["release_id"]
    job = call(server, tokens["analyst"], "POST", "/api/releases", {"indicator": "od-flows"}).json()
    return {"release": release, "job": job["id"]}


DENIED = (401, 401, 401, 401)
# method, path, body, expected status for: viewer, analyst out of scope, analyst, admin (after the four 401s)
MATRIX = [
    ("GET", "/api/health", None, (200,) * 8),
    ("GET", "/api/me", None, DENIED + (200, 200, 200, 200)),
    ("GET", "/api/indicators", None, DENIED + (200, 200, 200, 200)),
    ("GET", "/api/indicators/present-population", None, DENIED + (200, 403, 200, 200)),
    ("GET", "/api/levels", None, DENIED + (200, 200, 200, 200)),
    ("GET", "/api/areas?level=city", None, DENIED + (200, 200, 200, 200)),
    ("GET", "/api/names", None, DENIED + (200, 200, 200, 200)),
    ("GET", "/api/releases", None, DENIED + (200, 200, 200, 200)),
    ("GET", "/api/releases/{release}", None, DENIED + (200, 403, 200, 200)),
    ("GET", "/api/releases/{release}/tables/present-population?format=csv", None, DENIED + (200, 403, 200, 200)),
    ("POST", "/api/releases", {"indicator": "present-population", "parameters": {"level": "district"}},
     DENIED + (403, 403, 202, 202)),
    ("GET", "/api/jobs", None, DENIED + (403, 200, 200, 200)),
    ("GET", "/api/jobs/{job}", None, DENIED + (403, 403, 200, 200)),
    ("GET", "/api/budget", None, DENIED + (403, 200, 200, 200)),
    ("GET", "/api/audit", None, DENIED + (403, 403, 403, 200)),
    ("GET", "/api/audit/verify", None, DENIED + (403, 403, 403, 200)),
    ("GET", "/api/live", None, DENIED + (404, 403, 404, 404)),
    ("GET", "/api/live/events", None, DENIED + (404, 403, 404, 404)),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_authorization_matrix(server, tokens, ids, method, path, body, expected):
    got = tuple(call(server, tokens[who], method, path.format(**ids), body).status_code for who in CALLERS)
    assert dict(zip(CALLERS, got, strict=True)) == dict(zip(CALLERS, expected, strict=True))


def test_matrix_covers_every_endpoint(ws):
    paths = create_app(ws).openapi()["paths"]
    routes = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    covered = {(m, p.split("?")[0].replace("{release}", "{release_id}").replace("{job}", "{job_id}")
                .replace("present-population", "{table}" if "tables" in p else "{name}"))
               for m, p, _, _ in MATRIX}
    assert routes == covered


def test_refusals_reveal_nothing(server, tokens, ids):
    for who in ("none", "bad", "expired", "revoked"):
        response = call(server, tokens[who], "GET", f"/api/releases/{ids['release']}")
        assert response.json() == {"detail": "missing, invalid, expired or revoked token"}
        assert response.headers["www-authenticate"] == "Bearer"
    out = call(server, tokens["analyst_out"], "GET", f"/api/releases/{ids['release']}/tables/present-population")
    assert out.json() == {"detail": "outside this token's role or scope"}


def test_listing_hides_out_of_scope_releases(server, tokens, ids):
    listed = call(server, tokens["analyst_out"], "GET", "/api/releases").json()
    assert ids["release"] not in [r["release_id"] for r in listed]
    assert all(r["indicator"] == "od-flows" and r["level"] in ("city", "province") for r in listed)
    names = [i["name"] for i in call(server, tokens["analyst_out"], "GET", "/api/indicators").json()]
    assert names == ["od-flows"]


def test_analyst_level_scope(server, tokens):
    post = lambda level: call(server, tokens["analyst_out"], "POST", "/api/releases",  # noqa: E731
                              {"indicator": "od-flows", "parameters": {"level": level}}).status_code
    assert (post("district"), post("city"), post("province")) == (403, 202, 202)
    default_is_finest = call(server, tokens["analyst_out"], "POST", "/api/releases", {"indicator": "od-flows"})
    assert default_is_finest.status_code == 403


def test_tokens_are_stored_hashed_in_a_private_file(ws, tokens):
    path = ws.path / "tokens.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    for raw in tokens.values():
        if raw and raw != tokens["bad"]:
            assert raw not in text and digest(raw) in text


def test_revocation_applies_at_once(ws, server):
    raw, _ = TokenStore(ws.path).create("short-lived", "viewer")
    assert call(server, raw, "GET", "/api/me").status_code == 200
    TokenStore(ws.path).revoke("short-lived")
    assert call(server, raw, "GET", "/api/me").status_code == 401


def test_token_commands(ws):
    runner = CliRunner()
    made = runner.invoke(token_group, ["create", "--name", "cli-ana", "--role", "analyst", "--indicators",
                                       "residents,od-flows", "--min-level", "city", "--expires", "30",
                                       "-w", str(ws.path)])
    assert made.exit_code == 0, made.output
    raw = made.output.strip().splitlines()[-1]
    assert raw.startswith("pf_") and raw not in (ws.path / "tokens.json").read_text()
    record = TokenStore(ws.path).authenticate(raw)
    assert record.indicators == ("residents", "od-flows") and record.min_level == "city" and record.expires_at
    listed = runner.invoke(token_group, ["list", "-w", str(ws.path)], terminal_width=200)
    assert "cli-ana" in listed.output and raw not in listed.output and "active" in listed.output
    assert runner.invoke(token_group, ["revoke", "cli-ana", "-w", str(ws.path)]).exit_code == 0
    assert TokenStore(ws.path).authenticate(raw) is None
    for bad in (["--role", "root"], ["--role", "analyst", "--min-level", "galaxy"],
                ["--role", "analyst", "--indicators", "phone-tracker"],
                ["--role", "admin", "--indicators", "residents"]):
        result = runner.invoke(token_group, ["create", "--name", "x" + str(len(bad)), *bad, "-w", str(ws.path)])
        assert result.exit_code != 0


def test_no_token_in_server_logs(ws, tmp_path):
    """`serve` in a subprocess: its access and error logs never hold a token (header or query string)."""
    raw, _ = TokenStore(ws.path).create("logged", "admin")
    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen([sys.executable, "-m", "popflow.service", "serve", "--port", str(port),
                                "-w", str(ws.path)], stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(url + "/api/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        headers = {"Authorization": f"Bearer {raw}"}
        httpx.get(url + "/api/me", headers=headers)
        httpx.get(url + f"/api/levels?token={raw}", headers=headers)
        httpx.get(url + f"/api/{raw}", headers=headers)
        httpx.post(url + "/api/releases", headers=headers,
                   json={"indicator": "residents", "parameters": {"level": raw}})
        httpx.get(url + "/api/me", headers={"Authorization": f"Bearer {raw}x"})
    finally:
        process.terminate()
        process.wait(10)
    text = (tmp_path / "serve.log").read_text()
    assert '"GET /api/me HTTP/1.1" 200' in text and "401" in text  # requests are logged …
    assert raw not in text and raw[3:20] not in text  # … but never the token


def test_cli_commands_do_not_need_the_serve_extra():
    """`popflow token …` and the CLI's import work without FastAPI; only `serve` itself needs it."""
    code = "import sys, popflow.service.commands; assert 'fastapi' not in sys.modules and 'uvicorn' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
