"""A token's scope over every parameter that names an area level or an indicator, generated from the registry.

For each registered indicator and each of its parameters that names an area
level (``level``, ``origin_level``, …) or another indicator (``alerts``'
``indicator``), a token lacking the scope is refused with 403 and nothing is
created (no job, no release folder, no audit line); a token having it is
accepted. Accepted jobs are recorded, not computed: what is tested is what the
service lets through. Published releases are shown by the same rule.
"""

from __future__ import annotations

import itertools

import httpx
import pytest

from popflow import indicators
from popflow.service import ServiceConfig, create_app
from popflow.service.background import running
from popflow.service.scope import indicator_fields, level_fields
from popflow.service.tokens import TokenStore

import scenario

pytestmark = pytest.mark.timeout(180)
ALL = indicators.all_indicators()
NAMES = [i.name for i in ALL]
LEVEL_FIELDS = [(i.name, f.name) for i in ALL for f in level_fields(i.params)]
INDICATOR_FIELDS = [(i.name, f.name, other) for i in ALL for f in indicator_fields(i.params)
                    for other in NAMES if other != i.name]
ALLOWED, FINER = "city", "district"  # the scenario's levels: province, city, district
_names = itertools.count()


def test_the_scoped_fields_are_found_by_what_they_are():
    assert {("present-population", "level"), ("tourism", "level"), ("tourism", "origin_level"),
            ("sales-penetration", "level"), ("alerts", "level")} <= set(LEVEL_FIELDS)
    assert ("alerts", "measure") not in LEVEL_FIELDS  # a column name, not an area level
    assert {(name, field) for name, field, _ in INDICATOR_FIELDS} == {("alerts", "indicator")}


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("service-scope")
    return scenario.workspace(folder, scenario.random_events(40, 30, 8), scenario.subscribers(40), k=2)


@pytest.fixture(scope="module")
def app(ws):
    app = create_app(ws, ServiceConfig(rate=10_000, burst=10_000, max_pending=10_000))
    app.state.service.jobs.run_release = lambda job, values: None  # admitted, not computed
    return app


@pytest.fixture(scope="module")
def server(app):
    with running(app, access_log=False) as url:
        yield url


def token(ws, indicators_=None, min_level=None) -> str:
    return TokenStore(ws.path).create(f"scoped-{next(_names)}", "analyst", indicators_, min_level)[0]


def post(url: str, raw: str, indicator: str, parameters: dict) -> httpx.Response:
    return httpx.post(url + "/api/releases", json={"indicator": indicator, "parameters": parameters},
                      headers={"Authorization": f"Bearer {raw}"}, timeout=30)


def made(ws, app) -> tuple:
    """What a release request can leave behind: jobs, release folders, audit lines."""
    releases = ws.path / "releases"
    audit = ws.path / "audit.jsonl"
    return (len(app.state.service.jobs.jobs), len(list(releases.iterdir())) if releases.exists() else 0,
            len(audit.read_text().splitlines()) if audit.exists() else 0)


def refused(ws, app, response: httpx.Response, before: tuple, *words: str) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["detail"].startswith("outside this token's scope")
    assert all(word in response.json()["detail"] for word in words), response.text
    assert made(ws, app) == before


def at_allowed_levels(indicator: str) -> dict:
    return {f.name: ALLOWED for f in level_fields(indicators.get(indicator).params)}


@pytest.mark.parametrize(("indicator", "field"), LEVEL_FIELDS, ids=[f"{i}.{f}" for i, f in LEVEL_FIELDS])
def test_every_level_parameter_is_held_to_the_token_min_level(ws, app, server, indicator, field):
    raw = token(ws, min_level=ALLOWED)
    before = made(ws, app)
    refused(ws, app, post(server, raw, indicator, {**at_allowed_levels(indicator), field: FINER}), before,
            field, FINER)
    assert post(server, raw, indicator, at_allowed_levels(indicator)).status_code == 202


@pytest.mark.parametrize(("indicator", "field", "other"), INDICATOR_FIELDS,
                         ids=[f"{i}.{f}={o}" for i, f, o in INDICATOR_FIELDS])
def test_every_indicator_parameter_is_held_to_the_token_indicators(ws, app, server, indicator, field, other):
    before = made(ws, app)
    refused(ws, app, post(server, token(ws, (indicator,)), indicator, {field: other}), before, other)
    assert post(server, token(ws, (indicator, other)), indicator, {field: other}).status_code == 202


@pytest.mark.parametrize("indicator", NAMES)
def test_an_unset_level_counts_as_the_level_it_resolves_to(ws, app, server, indicator):
    """Unset, ``level`` is the finest (refused under a min-level); ``origin_level`` the coarsest."""
    raw = token(ws, min_level=ALLOWED)
    levels = {f.name: ALLOWED for f in level_fields(indicators.get(indicator).params) if f.name != "level"}
    finest_by_default = any(f.name == "level" for f in level_fields(indicators.get(indicator).params))
    before = made(ws, app)
    response = post(server, raw, indicator, levels)
    if finest_by_default:
        refused(ws, app, response, before, "level", FINER)
    else:
        assert response.status_code == 202, response.text


def test_a_watched_indicator_gets_its_own_defaults_checked(ws, app, server):
    raw = token(ws, ("alerts", "od-flows", "outbound-travel"), ALLOWED)
    before = made(ws, app)
    refused(ws, app, post(server, raw, "alerts", {"indicator": "od-flows"}), before, "od-flows", FINER)
    assert post(server, raw, "alerts", {"indicator": "od-flows", "level": ALLOWED}).status_code == 202
    assert post(server, raw, "alerts", {"indicator": "outbound-travel"}).status_code == 202  # no areas in it
    before = made(ws, app)
    refused(ws, app, post(server, raw, "alerts", {"indicator": "present-population", "level": ALLOWED}), before,
            "present-population")


def test_unknown_levels_and_indicators_in_parameters_are_bad_requests(ws, app, server):
    raw = token(ws)
    before = made(ws, app)
    for indicator, parameters in (("tourism", {"origin_level": "galaxy"}), ("alerts", {"level": "galaxy"}),
                                  ("alerts", {"indicator": "phone-tracker"})):
        response = post(server, raw, indicator, parameters)
        assert response.status_code == 400 and ("galaxy" in response.text or "phone-tracker" in response.text)
    assert made(ws, app) == before


def test_tokens_without_limits_are_not_held_back(ws, app, server):
    raw = token(ws)
    for indicator in NAMES:
        assert post(server, raw, indicator, {}).status_code == 202


@pytest.fixture(scope="module")
def published(ws):
    """Releases made outside the service: alerts over od-flows, and tourism by district of origin."""
    return {"alerts": ws.run("alerts", indicator="od-flows", level=ALLOWED, who="setup").manifest["release_id"],
            "tourism": ws.run("tourism", level=ALLOWED, origin_level=FINER, who="setup").manifest["release_id"]}


@pytest.mark.parametrize(("scope", "visible"), [
    (("alerts",), set()),
    (("alerts", "od-flows"), {"alerts"}),
    (("tourism",), set()),
    (("tourism", "alerts", "od-flows"), {"alerts"}),
])
def test_published_releases_are_shown_by_the_same_rule(ws, server, published, scope, visible):
    headers = {"Authorization": f"Bearer {token(ws, scope, ALLOWED)}"}
    listed = {r["release_id"] for r in httpx.get(server + "/api/releases", headers=headers, timeout=30).json()}
    assert {name for name, release in published.items() if release in listed} == visible
    for name, release in published.items():
        status = httpx.get(server + f"/api/releases/{release}", headers=headers, timeout=30).status_code
        assert status == (200 if name in visible else 403)

