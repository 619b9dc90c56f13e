"""The HTTP API over a real Uvicorn server: every endpoint, formats, refusals and security basics."""

from __future__ import annotations

import dataclasses
import io
import json
import time

import httpx
import pyarrow.parquet as pq
import pytest

from popflow import audit, indicators
from popflow.disclosure.request import PrivacyRequest
from popflow.errors import PopflowError
from popflow.indicators.params import from_text
from popflow.outputs import write_table
from popflow.service import ServiceConfig, create_app
from popflow.service.background import running
from popflow.service.tokens import TokenStore

import scenario

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("service-api")
    return scenario.workspace(folder, scenario.random_events(60, 40, 12), scenario.subscribers(60), k=2)


@pytest.fixture(scope="module")
def tokens(ws):
    store = TokenStore(ws.path)
    return {name: store.create(name, role)[0] for name, role in
            (("boss", "admin"), ("ana", "analyst"), ("vic", "viewer"))}


@pytest.fixture(scope="module")
def server(ws, tokens):
    with running(create_app(ws, ServiceConfig(rate=1000, burst=1000)), access_log=False) as url:
        yield url


def client(url: str, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, timeout=30)


def wait_for(c: httpx.Client, job: dict) -> dict:
    deadline = time.monotonic() + 60
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
        job = c.get(f"/api/jobs/{job['id']}").json()
    return job


def create(c: httpx.Client, indicator: str, **parameters) -> dict:
    response = c.post("/api/releases", json={"indicator": indicator, "parameters": parameters})
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/api/jobs/{response.json()['id']}"
    return wait_for(c, response.json())


@pytest.fixture(scope="module")
def release(server, tokens):
    job = create(client(server, tokens["ana"]), "present-population", by="gender", level="city")
    assert job["status"] == "done", job
    return job["release_id"]


def test_health_needs_no_token(server):
    assert client(server).get("/api/health").json() == {"status": "ok"}


def test_me_describes_the_token_without_revealing_it(server, tokens):
    body = client(server, tokens["ana"]).get("/api/me").json()
    assert body == {"name": "ana", "role": "analyst", "indicators": None, "min_level": None, "expires_at": None,
                    "privacy_modes": None}
    assert tokens["ana"] not in json.dumps(body)


def test_indicators_are_listed_with_parameters_from_their_dataclass(server, tokens):
    listed = {i["name"]: i for i in client(server, tokens["vic"]).get("/api/indicators").json()}
    assert set(listed) == {i.name for i in indicators.all_indicators()}
    for indicator in indicators.all_indicators():
        names = [f.name for f in dataclasses.fields(indicator.params)]
        assert [p["name"] for p in listed[indicator.name]["parameters"]] == names
        assert list(listed[indicator.name]["request_schema"]["properties"]) == names
    one = client(server, tokens["vic"]).get("/api/indicators/present-population").json()
    assert one["summary"] == indicators.get("present-population").summary
    assert client(server, tokens["vic"]).get("/api/indicators/no-such").status_code == 404


def test_openapi_request_schema_is_generated_per_indicator(server):
    spec = client(server).get("/openapi.json").json()
    body = spec["paths"]["/api/releases"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    variants = [ref["$ref"].rsplit("/", 1)[1] for ref in body["oneOf"]]
    assert len(variants) == len(indicators.all_indicators())
    schemas = spec["components"]["schemas"]
    pp = schemas["PresentPopulationParameters"]
    assert pp["additionalProperties"] is False
    fields = dataclasses.fields(indicators.get("present-population").params)
    assert set(pp["properties"]) == {f.name for f in fields} >= {"date_from", "date_to", "level", "by", "bin"}
    assert "--bin" in pp["properties"]["bin"]["description"]


def test_levels_go_from_coarsest_to_finest(server, tokens):
    levels = client(server, tokens["vic"]).get("/api/levels").json()
    assert [(level["name"], level["areas"], level["finest"]) for level in levels] == [
        ("province", 1, False), ("city", 2, False), ("district", 3, True)]


def test_areas_as_geojson_per_level(server, tokens):
    c = client(server, tokens["vic"])
    response = c.get("/api/areas", params={"level": "city"})
    assert response.headers["content-type"] == "application/geo+json"
    features = response.json()["features"]
    assert [f["properties"]["area_id"] for f in features] == ["X", "Y"]
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features)
    finest = c.get("/api/areas").json()
    assert [f["id"] for f in finest["features"]] == ["A", "B", "C"]
    assert c.get("/api/areas", params={"level": "galaxy"}).status_code == 404


def test_release_job_publishes_and_audits_with_the_token_name(ws, server, tokens, release):
    manifest = client(server, tokens["vic"]).get(f"/api/releases/{release}").json()
    assert manifest["indicator"] == "present-population"
    assert manifest["parameters"]["level"] == "city" and manifest["parameters"]["by"] == ["gender"]
    record = next(r for r in audit.read(ws.path / "audit.jsonl") if r["release"] == release)
    assert record["who"] == "token:ana"
    listed = client(server, tokens["vic"]).get("/api/releases").json()
    assert release in [r["release_id"] for r in listed]
    jobs = client(server, tokens["ana"]).get("/api/jobs").json()
    assert any(j["release_id"] == release and j["progress"] == 1.0 for j in jobs)


def test_table_as_json_records_with_iso_local_times(server, tokens, release):
    c = client(server, tokens["vic"])
    body = c.get(f"/api/releases/{release}/tables/present-population").json()
    assert [col["name"] for col in body["columns"]] == ["time", "area_id", "gender", "people"]
    assert body["total_rows"] == len(body["rows"]) > 0
    first = body["rows"][0]
    assert first["time"].endswith("+08:00") and first["people"] >= 2
    page = c.get(f"/api/releases/{release}/tables/present-population", params={"limit": 5, "offset": 2}).json()
    assert page["rows"] == body["rows"][2:7] and page["total_rows"] == body["total_rows"]


def test_table_as_csv_parquet_and_geojson(ws, server, tokens, release, tmp_path):
    c = client(server, tokens["vic"])
    url = f"/api/releases/{release}/tables/present-population"
    stored = pq.read_table(ws.path / "releases" / release / "present-population.parquet")
    parquet = c.get(url, params={"format": "parquet"})
    assert parquet.headers["content-type"] == "application/vnd.apache.parquet"
    assert pq.read_table(io.BytesIO(parquet.content)).equals(stored)
    csv = c.get(url, params={"format": "csv"})
    write_table(stored, tmp_path / "cli.csv")
    assert csv.content == (tmp_path / "cli.csv").read_bytes()  # the same bytes as `popflow run --out x.csv`
    assert "attachment" in csv.headers["content-disposition"]
    features = c.get(url, params={"format": "geojson"}).json()["features"]
    assert len(features) == stored.num_rows and features[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_bad_parameters_are_refused_with_the_dataclass_message(server, tokens):
    c = client(server, tokens["ana"])
    post = lambda params: c.post("/api/releases", json={"indicator": "present-population", "parameters": params})  # noqa: E731
    refused = post({"bin": "7min"})
    assert refused.status_code == 400 and "divide 24 hours" in refused.json()["detail"]
    assert post({"level": "galaxy"}).status_code == 400
    assert "--from is after --to" in post({"date_from": "2026-02-01", "date_to": "2026-01-01"}).json()["detail"]
    assert post({"by": "phone_number"}).status_code == 400
    assert post({"subscriber_id": "+8613900000001"}).status_code == 422  # no person-level parameter exists
    assert c.post("/api/releases", json={"indicator": "no-such"}).status_code == 422


REFUSED_PARAMETERS = [
    ("present-population", {"carry": "-1"}), ("present-population", {"carry": -1}),
    ("present-population", {"carry": 1_000_000_000}), ("present-population", {"bin": "7min"}),
    ("residents", {"min_nights": 0}), ("tourism", {"min_visit_bins": "many"}),
    ("alerts", {"threshold": 0}), ("alerts", {"threshold": "0.5"}),
    ("alerts", {"indicator": "alerts"}), ("alerts", {"measure": "area_id"}),
]


@pytest.mark.parametrize(("indicator", "parameters"), REFUSED_PARAMETERS,
                         ids=[f"{i}-{json.dumps(p)}" for i, p in REFUSED_PARAMETERS])
def test_refused_parameters_get_the_cli_message_before_any_work(ws, server, tokens, indicator, parameters):
    """The parameter object's own refusal (its parser, range or check) comes back at once as 400, word for word."""
    with pytest.raises(PopflowError) as by_the_parameter_object:
        from_text(indicators.get(indicator).params, {k: str(v) for k, v in parameters.items()})  # as the CLI
    c = client(server, tokens["ana"])
    jobs, audited = len(c.get("/api/jobs").json()), len(audit.read(ws.path / "audit.jsonl"))
    response = c.post("/api/releases", json={"indicator": indicator, "parameters": parameters})
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": str(by_the_parameter_object.value)}
    assert len(c.get("/api/jobs").json()) == jobs and len(audit.read(ws.path / "audit.jsonl")) == audited


REFUSED_PRIVACY = [{"privacy": "dp", "epsilon": 1e9}, {"privacy": "dp", "epsilon": 1, "max_contrib": 0},
                   {"privacy": "dp", "epsilon": 1, "delta": 0.5}, {"privacy": "dp"}, {"privacy": "exact"},
                   {"epsilon": 1}]


@pytest.mark.parametrize("options", REFUSED_PRIVACY, ids=[json.dumps(o) for o in REFUSED_PRIVACY])
def test_refused_privacy_options_get_the_cli_message_before_any_work(ws, server, tokens, options):
    with pytest.raises(PopflowError) as by_the_request:
        PrivacyRequest.from_options(**{k: str(v) for k, v in options.items()})  # as the CLI
    c = client(server, tokens["ana"])
    jobs = len(c.get("/api/jobs").json())
    response = c.post("/api/releases", json={"indicator": "present-population", **options})
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": str(by_the_request.value)}
    assert len(c.get("/api/jobs").json()) == jobs


def test_user_facing_failures_of_a_job_carry_their_message(server, tokens):
    c = client(server, tokens["ana"])
    empty = create(c, "present-population", date_from="2030-01-01", date_to="2030-01-02")
    assert empty["status"] == "failed" and empty["error"] and "Traceback" not in empty["error"]
    response = c.post("/api/releases", json={"indicator": "present-population", "privacy": "dp", "epsilon": 50})
    job = wait_for(c, response.json())
    assert job["status"] == "failed" and "budget" in job["error"]


def test_budget_and_audit(server, tokens, release):
    budget = client(server, tokens["ana"]).get("/api/budget").json()
    assert budget["limit_per_month"] == 10.0 and isinstance(budget["rows"], list)
    page = client(server, tokens["boss"]).get("/api/audit", params={"limit": 1}).json()
    assert page["total"] >= 1 and len(page["records"]) == 1 and "who" in page["records"][0]
    assert client(server, tokens["boss"]).get("/api/audit/verify").json()["intact"] is True


@pytest.mark.parametrize("path", [
    "/api/releases/..%2F..%2Fpopflow.toml", "/api/releases/../../secret.key", "/api/releases/20260101T000000-abcdef0",
    "/api/releases/20260101T000000-abcdef01", "/api/releases/20260101T000000-abcdef01/tables/x",
])
def test_no_path_traversal_or_unknown_release(server, tokens, path):
    response = client(server, tokens["boss"]).get(path)
    assert response.status_code in (404, 422)
    assert b"secret" not in response.content and b"k_anonymity" not in response.content


def test_release_folder_symlinked_outside_is_not_served(ws, server, tokens, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "manifest.json").write_text(json.dumps({"release_id": "x", "rows": {"t": 1}}))
    (ws.path / "releases" / "20260101T000000-deadbeef").symlink_to(outside)
    assert client(server, tokens["boss"]).get("/api/releases/20260101T000000-deadbeef").status_code == 404


def test_table_names_are_checked(server, tokens, release):
    c = client(server, tokens["vic"])
    assert c.get(f"/api/releases/{release}/tables/manifest").status_code == 404
    assert c.get(f"/api/releases/{release}/tables/..%2Fmanifest.json").status_code in (404, 422)
    assert c.get(f"/api/releases/{release}/tables/present-population", params={"format": "xml"}).status_code == 422


def test_request_body_size_is_limited(server, tokens):
    big = {"indicator": "present-population", "parameters": {"level": "x" * 100_000}}
    assert client(server, tokens["ana"]).post("/api/releases", json=big).status_code == 413


def chunked(data: bytes, size: int = 8192):
    """A body sent with ``Transfer-Encoding: chunked`` (no Content-Length): httpx streams a generator."""
    for start in range(0, len(data), size):
        yield data[start:start + size]


def test_chunked_request_body_size_is_limited(server, tokens):
    c = client(server, tokens["ana"])
    headers = {"Content-Type": "application/json"}
    big = json.dumps({"indicator": "present-population", "parameters": {"level": "x" * 100_000}}).encode()
    response = c.post("/api/releases", content=chunked(big), headers=headers)
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert response.status_code == 413 and response.json() == {"detail": "request body too large"}
    small = json.dumps({"indicator": "present-population", "parameters": {"level": "galaxy"}}).encode()
    refused = c.post("/api/releases", content=chunked(small, 7), headers=headers)
    assert refused.status_code == 400 and "galaxy" in refused.json()["detail"]  # read whole, then parsed


def test_cors_is_off_by_default(server, tokens):
    c = client(server, tokens["vic"])
    preflight = c.options("/api/releases", headers={"Origin": "https://evil.example",
                                                    "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in c.get("/api/releases", headers={"Origin": "https://evil.example"}).headers


def test_cors_can_be_allowed_for_named_origins(ws, tokens):
    app = create_app(ws, ServiceConfig(cors_origins=("https://city.example",)))
    with running(app, access_log=False) as url:
        response = client(url, tokens["vic"]).get("/api/levels", headers={"Origin": "https://city.example"})
        assert response.headers["access-control-allow-origin"] == "https://city.example"


def test_rate_limit_per_token(ws, tokens):
    with running(create_app(ws, ServiceConfig(rate=0.5, burst=3)), access_log=False) as url:
        c = client(url, tokens["vic"])
        codes = [c.get("/api/levels").status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        assert int(c.get("/api/levels").headers["retry-after"]) >= 1
        assert client(url, tokens["ana"]).get("/api/levels").status_code == 200  # another token, another bucket


def test_pending_jobs_per_token_are_limited(ws, tokens):
    with running(create_app(ws, ServiceConfig(max_pending=0)), access_log=False) as url:
        response = client(url, tokens["ana"]).post("/api/releases", json={"indicator": "residents"})
        assert response.status_code == 429


def test_security_headers(server, tokens):
    page = client(server).get("/")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    api = client(server, tokens["vic"]).get("/api/levels")
    assert api.headers["cache-control"] == "no-store"


def test_api_docs_are_served_offline(server):
    docs = client(server).get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs and "cdn" not in docs
    assert client(server).get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
