"""schemathesis against the service's own OpenAPI schema: no 5xx and no response that breaks the schema.

Bounded: a few examples per operation, no shrinking, so the whole run stays well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from popflow.service import ServiceConfig, create_app
from popflow.service.tokens import TokenStore

import scenario

pytestmark = pytest.mark.timeout(120)
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = tmp_path_factory.mktemp("service-schema")
    ws = scenario.workspace(folder, scenario.random_events(40, 35, 8), scenario.subscribers(40), k=2)
    ws.run("present-population", who="setup")
    raw, _ = TokenStore(ws.path).create("fuzz", "admin")
    app = create_app(ws, ServiceConfig(rate=10_000, burst=10_000, max_pending=1000))
    yield app, raw
    app.state.service.jobs.shutdown()


@pytest.fixture(scope="module")
def api_schema(service):
    app, _ = service
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, service):
    _, raw = service
    case.call_and_validate(headers={"Authorization": f"Bearer {raw}"}, checks=CHECKS)
