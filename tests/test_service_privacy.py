"""Privacy policy over HTTP: tokens limited to privacy modes, viewers and unnamed modes follow the workspace default."""

from __future__ import annotations

import tomllib

import httpx
import pytest
import tomli_w

from popflow import audit
from popflow.errors import PopflowError
from popflow.service import ServiceConfig, create_app
from popflow.service.background import running
from popflow.service.tokens import TokenStore
from popflow.workspace import Workspace

import scenario

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("service-privacy")
    ws = scenario.workspace(folder, scenario.random_events(80, 10, 12), scenario.subscribers(80), k=5)
    for mode, extra in (("k", {}), ("ckm", {}), ("dp", {"epsilon": 0.5})):
        ws.run("residents", privacy=mode, **extra)
    return ws


def set_default(ws, mode: str) -> None:
    path = ws.path / "popflow.toml"
    path.write_text(tomli_w.dumps({**tomllib.loads(path.read_text()), "default_privacy": mode}))


@pytest.fixture(scope="module")
def tokens(ws):
    store = TokenStore(ws.path)
    made = {"safe": ("analyst", ("ckm", "dp")), "ana": ("analyst", None), "vic": ("viewer", None),
            "dpviewer": ("viewer", ("dp",))}
    return {name: store.create(name, role, privacy_modes=modes)[0] for name, (role, modes) in made.items()}


def serve(ws):
    return running(create_app(Workspace(ws.path), ServiceConfig(rate=1000, burst=1000)), access_log=False)


def client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def modes_seen(url: str, token: str) -> set[str]:
    return {r["privacy"]["mode"] for r in client(url, token).get("/api/releases").json()}


def test_a_token_limited_to_privacy_modes_cannot_release_exact_counts(ws, tokens):
    with serve(ws) as url:
        c = client(url, tokens["safe"])
        audited = len(audit.read(ws.path / "audit.jsonl"))
        refused = c.post("/api/releases", json={"indicator": "residents", "privacy": "k"})
        assert refused.status_code == 403 and "privacy mode 'k'" in refused.json()["detail"]
        default = c.post("/api/releases", json={"indicator": "residents"})  # the workspace default is k
        assert default.status_code == 403
        assert len(audit.read(ws.path / "audit.jsonl")) == audited
        assert c.post("/api/releases", json={"indicator": "residents", "privacy": "ckm"}).status_code == 202
        assert c.get("/api/me").json()["privacy_modes"] == ["ckm", "dp"]
        assert modes_seen(url, tokens["safe"]) == {"ckm", "dp"}


def test_viewers_read_releases_at_least_as_protective_as_the_default(ws, tokens):
    with serve(ws) as url:
        assert modes_seen(url, tokens["vic"]) == {"k", "ckm", "dp"}
        assert modes_seen(url, tokens["dpviewer"]) == {"dp"}
        assert modes_seen(url, tokens["ana"]) == {"k", "ckm", "dp"}
    set_default(ws, "ckm")
    try:
        with serve(ws) as url:
            assert modes_seen(url, tokens["vic"]) == {"ckm", "dp"}
            job = client(url, tokens["ana"]).post("/api/releases", json={"indicator": "workers"}).json()
            assert job["status"] in ("queued", "running", "done")
    finally:
        set_default(ws, "k")


def test_unknown_privacy_modes_are_refused_at_token_creation(ws):
    with pytest.raises(PopflowError, match="--privacy-modes exact"):
        TokenStore(ws.path).create("odd", "analyst", privacy_modes=("exact",))


def test_the_budget_lists_what_dp_releases_spent_per_month(ws, tokens):
    with serve(ws) as url:
        response = client(url, tokens["ana"]).get("/api/budget")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["delta_limit_per_month"] == 1e-6 and body["rows"]
    assert all(row["epsilon_spent"] == 0.5 for row in body["rows"])
