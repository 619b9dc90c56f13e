"""Ingest: non-finite money, ambiguous base currencies, duplicated columns, line numbers, nested
Parquet columns and concurrent ingests into one workspace."""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import popflow

import scenario

SALES_HEADER = "order_id,customer_id,ordered_at,region_id,category,amount,currency\n"
TICKETS_HEADER = "ticket_id,traveller_id,purchased_at,departs_at,origin,destination,destination_country,fare,currency\n"
WHEN = "2026-01-20T10:00:00+08:00"


def quarantined(ws: popflow.Workspace, source: str) -> pd.DataFrame:
    files = [str(f) for f in ws.lake.quarantine_files(source)]
    return duckdb.sql(f"SELECT * FROM read_parquet({files}) ORDER BY line").df().set_index("line")


@pytest.fixture
def ws(tmp_path):
    return scenario.workspace(tmp_path, scenario.random_events(n_people=6, days=1, per_day=4),
                              scenario.subscribers(6))


def test_non_finite_amounts_fares_and_rates_are_invalid(ws, tmp_path):
    sales = tmp_path / "s.csv"
    amounts = ["NaN", "inf", "-inf", "1e309", "-Infinity", "12.5"]
    sales.write_text(SALES_HEADER + "".join(f"O{i},C1,{WHEN},A,food,{a},CNY\n" for i, a in enumerate(amounts)))
    report = ws.ingest("sales", [sales])
    assert report["quarantined_by_reason"] == {"invalid_value": 5} and report["rows"]["accepted"] == 1
    assert set(quarantined(ws, "sales")["column"]) == {"amount"}
    assert ws.connect().sql("SELECT amount FROM sales").fetchall() == [(12.5,)]
    tickets = tmp_path / "t.csv"
    fares = ["nan", "inf", "1e400", "100"]
    tickets.write_text(TICKETS_HEADER + "".join(
        f"T{i},TRV1,2025-12-01T10:00:00+08:00,2026-01-10T08:00:00+08:00,CAN,BKK,TH,{f},CNY\n"
        for i, f in enumerate(fares)))
    report = ws.ingest("tickets", [tickets])
    assert report["quarantined_by_reason"] == {"invalid_value": 3}
    assert set(quarantined(ws, "tickets")["column"]) == {"fare"}
    fx = tmp_path / "fx.csv"
    rates = ["inf", "NaN", "0", "-7", "1e309", "7"]
    fx.write_text("date,currency,rate_to_base\n2026-01-20,CNY,1\n"
                  + "".join(f"2026-01-{21 + i},USD,{r}\n" for i, r in enumerate(rates)))
    report = ws.ingest("fx", [fx])
    assert report["quarantined_by_reason"] == {"invalid_value": 5}
    assert set(quarantined(ws, "fx")["column"]) == {"rate_to_base"}


def test_non_finite_amounts_in_parquet_are_invalid(ws, tmp_path):
    amounts = pa.array([float("nan"), float("inf"), -float("inf"), 3.0])  # NaN kept as NaN, not null
    sales = pa.table({"order_id": ["P1", "P2", "P3", "P4"], "customer_id": ["C1"] * 4, "ordered_at": [WHEN] * 4,
                      "region_id": ["A"] * 4, "category": ["food"] * 4, "amount": amounts, "currency": ["CNY"] * 4})
    pq.write_table(sales, tmp_path / "s.parquet")
    report = ws.ingest("sales", [tmp_path / "s.parquet"])
    assert report["quarantined_by_reason"] == {"invalid_value": 3} and report["rows"]["accepted"] == 1


def test_two_base_currencies_on_one_date_are_quarantined(ws, tmp_path):
    fx = tmp_path / "fx.csv"
    fx.write_text("date,currency,rate_to_base\n"
                  "2026-01-20,CNY,1\n2026-01-20,USD,1\n2026-01-20,EUR,7.8\n"  # lines 2-4: two bases
                  "2026-01-21,CNY,1\n2026-01-21,USD,7.1\n")
    report = ws.ingest("fx", [fx])
    assert report["quarantined_by_reason"] == {"ambiguous_base_currency": 2}
    q = quarantined(ws, "fx")
    assert list(q.index) == [2, 3] and set(q["column"]) == {"rate_to_base"}
    later = tmp_path / "fx-later.csv"
    later.write_text("date,currency,rate_to_base\n2026-01-21,EUR,1\n2026-01-22,CNY,1\n")
    report = ws.ingest("fx", [later])  # EUR at rate 1 on a date the lake already has CNY at rate 1
    assert report["quarantined_by_reason"] == {"ambiguous_base_currency": 1}
    bases = ws.connect().sql("SELECT date::VARCHAR, currency FROM fx WHERE rate_to_base = 1 ORDER BY 1").fetchall()
    assert bases == [("2026-01-21", "CNY"), ("2026-01-22", "CNY")]
