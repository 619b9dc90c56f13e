"""Released numbers in text outputs: money, medians and shares rounded by their declared roles, Parquet exact."""

from __future__ import annotations

import json
import math
import shutil

import httpx
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import popflow
from popflow.indicators import get
from popflow.rounding import MEDIAN, MONEY, ROLE, SHARE, column_roles, rounded, with_roles
from popflow.service import ServiceConfig, create_app
from popflow.service.background import running
from popflow.service.tokens import TokenStore

import scenario


def decimals(value: float) -> int:
    """Digits after the point in the shortest text of a float."""
    text = repr(value)
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def significant(value: float, digits: int) -> float:
    return float(f"{value:.{digits}g}")


@pytest.fixture(scope="module")
def ws(every_source_workspace, tmp_path_factory):
    """A copy of the shared workspace holding tickets, sales and fx (releases here add audit lines)."""
    target = tmp_path_factory.mktemp("rounding") / "ws"
    shutil.copytree(every_source_workspace.path, target)
    return popflow.Workspace(target)


@pytest.fixture(scope="module")
def outbound(ws, tmp_path_factory):
    folder = tmp_path_factory.mktemp("outbound")
    return ws.run("outbound-travel", out=folder / "outbound.csv"), folder / "outbound.csv"


def test_roles_are_read_from_the_declarations():
    outbound, sales = get("outbound-travel"), get("sales-penetration")
    assert column_roles(outbound, outbound.params()) == {
        "spend_total": MONEY, "spend_median": MEDIAN, "premium_share": SHARE, "change_vs_prev_year": SHARE,
        "change_vs_prev_4w": SHARE}
    assert column_roles(sales, sales.params()) == {"revenue": MONEY, "online_share": SHARE, "penetration": SHARE}
    presence = get("present-population")
    assert column_roles(presence, presence.params()) == {}


def test_money_is_rounded_to_its_currency_minor_unit():
    table = with_roles(pa.table({"spend": [1234.5678, 99.9994, 10.004999, None, 7.123456],
                                 "currency": ["JPY", "KWD", "CNY", "CNY", "BASE"],
                                 "share": [0.06451612903225806, 123493.32380800002, None, 1.0, float("nan")]}),
                       {"spend": MONEY, "share": SHARE})
    out = rounded(table)
    assert out.column("spend").to_pylist() == [1235.0, 99.999, 10.0, None, 7.12]  # BASE: unknown, 2 decimals
    shares = out.column("share").to_pylist()
    assert shares[:4] == [0.06452, 123500.0, None, 1.0] and math.isnan(shares[4])
    assert out.schema == table.schema  # types and roles kept


def test_csv_rounds_money_medians_and_shares_and_parquet_keeps_full_precision(ws, outbound):
    release, path = outbound
    exact = pq.read_table(ws.path / "releases" / release.manifest["release_id"] / "outbound-travel.parquet")
    assert exact.schema.field("spend_total").metadata[ROLE] == b"money"  # the role travels with the stored table
    assert exact.equals(release.table)
    full = exact.to_pandas()
    assert any(decimals(v) > 2 for v in full["spend_total"].dropna())  # there was float noise to remove
    written = pd.read_csv(path)
    assert len(written) == len(full)
    for column, expected in (("spend_total", lambda v: round(v, 2)), ("spend_median", lambda v: significant(v, 3)),
                             ("premium_share", lambda v: significant(v, 4))):
        pairs = [(w, e) for w, e in zip(written[column], full[column], strict=True) if not pd.isna(e)]
        assert pairs and all(w == expected(e) for w, e in pairs), column
    assert max(decimals(v) for v in written["spend_total"].dropna()) <= 2
    assert "e-" not in path.read_text()


def test_geojson_rounds_revenue_and_penetration(ws, tmp_path):
    release = ws.run("sales-penetration", out=tmp_path / "sales.geojson")
    features = json.loads((tmp_path / "sales.geojson").read_text())["features"]
    full = release.table.to_pylist()
    assert len(features) == len(full) > 0
    for feature, row in zip(features, full, strict=True):
        properties = feature["properties"]
        assert properties["revenue"] == (None if row["revenue"] is None else round(row["revenue"], 2))
        for share in ("online_share", "penetration"):
            assert properties[share] == (None if row[share] is None else significant(row[share], 4))


@pytest.fixture(scope="module")
def server(ws):
    token = TokenStore(ws.path).create("rounding-reader", "analyst")[0]
    with running(create_app(ws, ServiceConfig(rate=1000, burst=1000)), access_log=False) as url:
        yield httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_the_api_serves_rounded_json_and_the_cli_csv_bytes(server, outbound):
    release, path = outbound
    url = f"/api/releases/{release.manifest['release_id']}/tables/outbound-travel"
    rows = server.get(url).json()["rows"]
    assert [r["spend_total"] for r in rows] == [None if v is None else round(v, 2)
                                                for v in release.table.column("spend_total").to_pylist()]
    assert [r["premium_share"] for r in rows] == [None if v is None else significant(v, 4)
                                                  for v in release.table.column("premium_share").to_pylist()]
    paged = server.get(url, params={"limit": 3, "offset": 1}).json()["rows"]
    assert paged == rows[1:4]
    assert server.get(url, params={"format": "csv"}).content == path.read_bytes()
    parquet = pq.read_table(pa.BufferReader(server.get(url, params={"format": "parquet"}).content))
    assert parquet.column("spend_total").equals(release.table.column("spend_total"))  # full precision


def test_the_api_refuses_a_breakdown_without_a_subscriber_register(tmp_path):
    ws = scenario.workspace(tmp_path, scenario.random_events(n_people=6, days=1, per_day=4))  # no register
    token = TokenStore(ws.path).create("analyst", "analyst")[0]
    with running(create_app(ws, ServiceConfig(rate=1000, burst=1000)), access_log=False) as url:
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        answer = client.post("/api/releases", json={"indicator": "present-population",
                                                    "parameters": {"by": "gender"}})
    assert answer.status_code == 400  # refused before any job
    assert answer.json()["detail"] == ("--by gender: no subscriber register was ingested, so everyone's gender "
                                       "would be unknown; ingest one first (popflow ingest subscribers FILE)")
    assert not list((ws.path / "releases").iterdir())
