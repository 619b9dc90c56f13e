"""The API tells the dashboard what each released column is (roles from the indicators' declarations) and
the names of the codes releases carry (regions and countries)."""

from __future__ import annotations

import httpx
import pytest

from popflow import indicators
from popflow.service import create_app
from popflow.service.background import running
from popflow.service.tokens import TokenStore

pytestmark = pytest.mark.timeout(180)
RELEASES = (("present-population", {"by": "gender,age_band"}), ("od-flows", {}), ("workers", {}),
            ("migration", {}), ("tourism", {}), ("outbound-travel", {}), ("sales-penetration", {"rank": "opportunity"}))


@pytest.fixture(scope="module")
def api(every_source_workspace):
    raw, _ = TokenStore(every_source_workspace.path).create("names-viewer", "viewer")
    with running(create_app(every_source_workspace), access_log=False) as url:
        yield httpx.Client(base_url=url, headers={"Authorization": f"Bearer {raw}"}, timeout=30)


@pytest.mark.parametrize(("name", "parameters"), RELEASES)
def test_every_released_column_has_a_declared_role(every_source_workspace, api, name, parameters):
    roles = api.get(f"/api/indicators/{name}").json()["roles"]
    release = every_source_workspace.run(name, who="roles-test", **parameters)
    for table in release.tables.values():
        assert set(table.column_names) <= set(roles["columns"]), (name, table.column_names, roles)
        times = [c for c in table.column_names if roles["columns"][c] == "time"]
        assert len(times) == 1


def test_roles_name_time_areas_flows_measures_and_currency(api):
    listed = {i["name"]: i["roles"] for i in api.get("/api/indicators").json()}
    assert set(listed) == {i.name for i in indicators.all_indicators()}
    presence = listed["present-population"]["columns"]
    assert (presence["time"], presence["area_id"], presence["people"], presence["gender"]) == \
        ("time", "area", "count", "category")
    assert listed["workers"]["flow"] == ["home_area_id", "work_area_id"]
    assert listed["migration"]["columns"]["period_from"] == "label"
    assert listed["migration"]["columns"]["period_to"] == "time"
    travel = listed["outbound-travel"]
    assert travel["currency"] == "currency" and travel["columns"]["spend_total"] == "money"
    assert (travel["columns"]["premium_share"], travel["columns"]["change_vs_prev_year"]) == ("share", "change")
    assert listed["sales-penetration"]["columns"]["penetration"] == "share"
    assert listed["tourism"]["columns"]["origin"] == "category" and listed["tourism"]["flow"] is None


def test_names_of_regions_and_countries(small_ws, tmp_path):
    raw, _ = TokenStore(small_ws.path).create("reader", "viewer")
    with running(create_app(small_ws), access_log=False) as url:
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {raw}"}, timeout=30)
        before = client.get("/api/names").json()
        (tmp_path / "regions.csv").write_text("code,name\n430000,Hunan\n440000,Guangdong\n")
        small_ws.ingest("regions", [tmp_path / "regions.csv"])
        after = client.get("/api/names").json()
        assert httpx.get(url + "/api/names").status_code == 401
    assert before["regions"] == {} and after["regions"] == {"430000": "Hunan", "440000": "Guangdong"}
    assert after["countries"]["FR"] == "France" and len(after["countries"]) > 240
