"""tourism, outbound-travel, sales-penetration and alerts against independent pandas computations."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from popflow.indicators.alerts import derive
from popflow.indicators.params import Alerts

import reference as ref
import reference_travel as reft
import scenario

K = 2


def same(actual: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
    assert len(actual) > 0
    actual = actual.sort_values(keys).reset_index(drop=True)
    expected = expected.sort_values(keys).reset_index(drop=True)[list(actual.columns)]
    numeric = actual.columns.difference(keys)
    actual[numeric] = actual[numeric].apply(pd.to_numeric)
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False, check_exact=False, rtol=1e-9)


@pytest.fixture(scope="module")
def travel(tmp_path_factory):
    root = tmp_path_factory.mktemp("travel")
    ws = scenario.workspace(root, scenario.random_events(10, 2, 3), k=K)
    # 70 weeks from early January 2025: crosses the ISO year boundary (2025-12-29 is 2026-W01).
    tickets = scenario.random_tickets(30, weeks=70, per_week=25, start="2025-01-06")
    fx = scenario.fx_rates("2024-10-01", "2026-06-30")
    scenario.ingest_frames(ws, root / "in", tickets=tickets, fx=fx)
    return ws, tickets, fx


def test_outbound_travel_matches_reference(travel):
    ws, tickets, fx = travel
    got = ws.run("outbound-travel").to_pandas()
    assert list(got.columns)[:9] == ["week", "destination_country", "trips", "travellers", "spend_total",
                                     "spend_median", "premium_share", "change_vs_prev_year", "change_vs_prev_4w"]
    assert set(got["currency"]) == {"CNY"}  # converted to the fx base
    want = reft.outbound(tickets, fx, K)
    same(got.drop(columns="currency"), want, ["week", "destination_country"])
    assert "2026-W01" in set(got["week"]) and got["change_vs_prev_year"].notna().any()


def test_outbound_without_fx_keeps_currencies(tmp_path):
    ws = scenario.workspace(tmp_path, scenario.random_events(10, 2, 3), k=K)
    tickets = scenario.random_tickets(30, weeks=8, per_week=40, start="2025-11-03")
    scenario.ingest_frames(ws, tmp_path / "in", tickets=tickets)
    got = ws.run("outbound-travel").to_pandas()
    assert set(got["currency"]) == {"CNY", "USD"}


def test_outbound_rank_orders_by_mean_spend(travel):
    ws, _, _ = travel
    got = ws.run("outbound-travel", rank="spend", date_from="2026-03-02", date_to="2026-03-29").to_pandas()
    mean = (got["spend_total"] / got["travellers"]).dropna()
    assert mean.is_monotonic_decreasing and list(got["rank"]) == list(range(1, len(got) + 1))
    assert set(got["week"]) <= {"2026-W10", "2026-W11", "2026-W12", "2026-W13"}


@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    root = tmp_path_factory.mktemp("retail")
    events = scenario.random_events(n_people=60, days=14, per_day=10, seed=3, start="2026-01-26")
    subs = scenario.subscribers(60, seed=2)
    population = pd.DataFrame({"area_id": ["A", "B", "C"], "population": [3000, 2000, 1000]})
    ws = scenario.workspace(root, events, subs, k=K, population=population)
    sales = scenario.random_sales(25, days=14, per_day=20, start="2026-01-26")
    scenario.ingest_frames(ws, root / "in", sales=sales)
    return ws, sales, ref.local_events(events), subs, population


def test_sales_penetration_matches_reference(retail):
    ws, sales, ev, subs, population = retail
    first, last = datetime.date(2026, 1, 26), datetime.date(2026, 2, 8)
    got = ws.run("sales-penetration").to_pandas()
    assert list(got.columns) == ["month", "region_id", "orders", "buyers", "revenue", "online_share", "potential",
                                 "penetration", "opportunity"]
    want = reft.sales_penetration(sales, ev, subs, population, first, last, K)
    same(got, want, ["month", "region_id"])
    ranked = ws.run("sales-penetration", rank="opportunity").to_pandas()
    assert ranked["opportunity"].dropna().is_monotonic_decreasing


@pytest.fixture(scope="module")
def tourists(tmp_path_factory):
    events = scenario.random_events(n_people=40, days=12, per_day=10, seed=5, start="2026-01-24")
    foreign = {scenario.phone(i) for i in range(0, 40, 8)}
    events["mcc"] = np.where(events["subscriber_id"].isin(foreign), "450", "460")
    return scenario.workspace(tmp_path_factory.mktemp("tourism"), events, k=K), events


@pytest.mark.parametrize("method", ["stays", "observed"])
def test_tourism_matches_reference(tourists, method):
    ws, events = tourists
    first, last = datetime.date(2026, 1, 24), datetime.date(2026, 2, 4)
    got = ws.run("tourism", date_from=first, date_to=last, origin_level="city", method=method).to_pandas()
    got["date"] = pd.to_datetime(got["date"]).dt.date
    mccs = dict(zip(events["subscriber_id"], events["mcc"], strict=True))
    want = reft.tourism(ref.local_events(events), mccs, first, last, K, origin_level="city", method=method)
    same(got, want, ["date", "area_id", "visitor_type", "origin"])
    assert {"domestic_overnight", "domestic_sameday", "international"} <= set(got["visitor_type"])


def hourly(values: list[float]) -> pa.Table:
    start = pd.Timestamp("2026-01-05", tz=scenario.TIMEZONE)
    times = [start + pd.Timedelta(hours=i) for i in range(len(values))]
    return pa.table({"time": pa.array(times, pa.timestamp("us", tz=scenario.TIMEZONE)),
                     "area_id": ["A"] * len(values), "people": values})


class FakeRelease:
    def __init__(self, table, indicator):
        self.table, self.manifest = table, {"indicator": indicator}


def test_alerts_flag_a_spike_against_the_same_hour_of_week():
    rng = np.random.default_rng(0)
    week = 100 + 50 * np.sin(np.arange(168) / 24 * 2 * np.pi)
    values = np.concatenate([week + rng.normal(0, 3, 168) for _ in range(6)]).round()
    values[5 * 168 + 30] += 200  # one spike in the sixth week
    alerts = derive(FakeRelease(hourly(list(values)), "present-population"), Alerts()).get("alerts").to_pandas()
    assert len(alerts) == 1 and alerts["time"][0].startswith("2026-02-10T06:00:00+08:00")
    assert alerts["score"][0] > 3.5 and alerts["key"][0] == "A"


def test_alerts_flag_a_collapse_in_a_weekly_series():
    weeks = [f"2026-W{w:02d}" for w in range(1, 21)]
    trips = [100.0 + (w % 3) for w in range(20)]
    trips[12:] = [20.0] * 8  # a travel advisory from week 13 on
    table = pa.table({"week": weeks, "destination_country": ["KR"] * 20, "trips": trips,
                      "travellers": [t - 5 for t in trips]})
    params = Alerts(indicator="outbound-travel", measure="trips")
    alerts = derive(FakeRelease(table, "outbound-travel"), params).get("alerts").to_pandas()
    assert alerts["time"].iloc[0] == "2026-W13" and (alerts["score"] < 0).all()
    assert set(alerts["time"]) <= {"2026-W13", "2026-W14", "2026-W15", "2026-W16"}


def test_bad_ticket_and_sales_rows_are_quarantined(tmp_path):
    import duckdb

    ws = scenario.workspace(tmp_path, scenario.random_events(5, 1, 2), k=K)
    header = "ticket_id,traveller_id,purchased_at,departs_at,origin,destination,destination_country,fare,currency\n"
    good = "2025-12-01T10:00:00+08:00,2026-01-10T08:00:00+08:00"
    tickets = tmp_path / "t.csv"
    tickets.write_text(header + "\n".join([
        f"T1,TRV1,{good},CAN,BKK,TH,100,CNY", f"T2,TRV1,{good},CAN,QQQ,TH,100,CNY",
        f"T3,TRV1,{good},CAN,BKK,TH,-1,CNY", f"T4,TRV1,{good},CAN,BKK,TH,lots,CNY",
        "T5,TRV1,2026-02-01T10:00:00+08:00,2026-01-10T08:00:00+08:00,CAN,BKK,TH,1,CNY",
        f"T6,TRV1,{good},CAN,BKK,TH,1,QQQ", f"T1,TRV2,{good},CAN,BKK,TH,1,CNY", f"T7,TRV1,{good},CAN,BKK,JP,1,CNY",
    ]) + "\n")
    report = ws.ingest("tickets", [tickets])
    assert report["rows"] == {"read": 8, "accepted": 1, "quarantined": 7}
    files = [str(f) for f in ws.lake.quarantine_files("tickets")]
    got = dict(duckdb.sql(f"SELECT line, reason FROM read_parquet({files})").fetchall())
    assert got == {3: "unknown_airport", 4: "negative_amount", 5: "invalid_value", 6: "departure_before_purchase",
                   7: "unknown_currency", 8: "duplicate_key", 9: "invalid_value"}
    sales = tmp_path / "s.csv"
    sales.write_text("order_id,customer_id,ordered_at,region_id,category,amount,currency,channel\n"
                     "O1,C1,2026-01-20T10:00:00+08:00,Z,food,1,CNY,online\n"
                     "O2,C1,2026-01-20T10:00:00+08:00,A,food,-2,CNY,online\n"
                     "O3,C1,2026-01-20T10:00:00+08:00,A,food,2,ABC,online\n")
    assert ws.ingest("sales", [sales])["quarantined_by_reason"] == {
        "negative_amount": 1, "unknown_area": 1, "unknown_currency": 1}
