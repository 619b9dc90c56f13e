"""Ingest: non-finite money, ambiguous base currencies, duplicated columns, line numbers, nested
Parquet columns and concurrent ingests into one workspace."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import popflow
from popflow.errors import InputError

import scenario

SALES_HEADER = "order_id,customer_id,ordered_at,region_id,category,amount,currency\n"
TICKETS_HEADER = "ticket_id,traveller_id,purchased_at,departs_at,origin,destination,destination_country,fare,currency\n"
WHEN = "2026-01-20T10:00:00+08:00"




@pytest.fixture
def ws(small_ws):
    return small_ws


def test_non_finite_amounts_fares_and_rates_are_invalid(ws, tmp_path):
    sales = tmp_path / "s.csv"
    amounts = ["NaN", "inf", "-inf", "1e309", "-Infinity", "12.5"]
    sales.write_text(SALES_HEADER + "".join(f"O{i},C1,{WHEN},A,food,{a},CNY\n" for i, a in enumerate(amounts)))
    report = ws.ingest("sales", [sales])
    assert report["quarantined_by_reason"] == {"invalid_value": 5} and report["rows"]["accepted"] == 1
    assert set(scenario.quarantined(ws, "sales")["column"]) == {"amount"}
    assert ws.connect().sql("SELECT amount FROM sales").fetchall() == [(12.5,)]
    tickets = tmp_path / "t.csv"
    fares = ["nan", "inf", "1e400", "100"]
    tickets.write_text(TICKETS_HEADER + "".join(
        f"T{i},TRV1,2025-12-01T10:00:00+08:00,2026-01-10T08:00:00+08:00,CAN,BKK,TH,{f},CNY\n"
        for i, f in enumerate(fares)))
    report = ws.ingest("tickets", [tickets])
    assert report["quarantined_by_reason"] == {"invalid_value": 3}
    assert set(scenario.quarantined(ws, "tickets")["column"]) == {"fare"}
    fx = tmp_path / "fx.csv"
    rates = ["inf", "NaN", "0", "-7", "1e309", "7"]
    fx.write_text("date,currency,rate_to_base\n2026-01-20,CNY,1\n"
                  + "".join(f"2026-01-{21 + i},USD,{r}\n" for i, r in enumerate(rates)))
    report = ws.ingest("fx", [fx])
    assert report["quarantined_by_reason"] == {"invalid_value": 5}
    assert set(scenario.quarantined(ws, "fx")["column"]) == {"rate_to_base"}


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
    q = scenario.quarantined(ws, "fx")
    assert list(q.index) == [2, 3] and set(q["column"]) == {"rate_to_base"}
    later = tmp_path / "fx-later.csv"
    later.write_text("date,currency,rate_to_base\n2026-01-21,EUR,1\n2026-01-22,CNY,1\n")
    report = ws.ingest("fx", [later])  # EUR at rate 1 on a date the lake already has CNY at rate 1
    assert report["quarantined_by_reason"] == {"ambiguous_base_currency": 1}
    bases = ws.connect().sql("SELECT date::VARCHAR, currency FROM fx WHERE rate_to_base = 1 ORDER BY 1").fetchall()
    assert bases == [("2026-01-21", "CNY"), ("2026-01-22", "CNY")]


def cli(*args) -> subprocess.CompletedProcess:
    """``popflow`` as a user runs it, in a process of its own."""
    return subprocess.run([sys.executable, "-m", "popflow", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def assert_one_line_error(result: subprocess.CompletedProcess, *parts: str) -> None:
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 2, output
    assert len(output.splitlines()) == 1 and "Traceback" not in output, output
    for part in parts:
        assert part in output, output


def lake_listing(ws: popflow.Workspace) -> list[str]:
    return sorted(str(p.relative_to(ws.path)) for p in (ws.path / "lake").rglob("*"))


def test_a_duplicated_column_refuses_the_file(ws, tmp_path):
    before = lake_listing(ws)
    twice = tmp_path / "twice.csv"
    twice.write_text("subscriber_id,timestamp,cell_id,timestamp\n+8613900000001,2026-01-20T08:00:00Z,a1,x\n")
    with pytest.raises(InputError, match=r"twice\.csv, column 'timestamp': .*more than once"):
        ws.ingest("events", [twice])
    assert_one_line_error(cli("ingest", "events", twice, "-w", ws.path), "twice.csv", "timestamp")
    extra = tmp_path / "extra.csv"  # a repeated column popflow does not read is no problem
    extra.write_text("subscriber_id,timestamp,cell_id,note,note\n+8613900000001,2026-01-20T08:00:00Z,a1,x,y\n")
    assert lake_listing(ws) == before
    assert ws.ingest("events", [extra])["rows"]["accepted"] == 1


def test_line_numbers_count_the_lines_inside_quoted_values(ws, tmp_path):
    events = tmp_path / "quoted.csv"
    events.write_text("subscriber_id,timestamp,cell_id,note\n"
                      '+8613900000001,2026-01-20T08:00:00Z,a1,"a note\nover three\nlines"\n'  # lines 2-4
                      "+8613900000001,yesterday,a1,x\n"  # line 5: unparsable
                      '+8613900000001,2026-01-20T08:00:00Z,"a\r\n1",x\n'  # lines 6-7: unknown cell
                      "+8613900000001,2026-01-20T08:00:00Z\n"  # line 8: malformed
                      '"+8613900000001\n",soon,a1,x\n'  # lines 9-10
                      "+8613900000001,2026-01-20T08:00:00Z,zz,x\n")  # line 11: unknown cell
    ws.ingest("events", [events])
    got = dict(scenario.quarantined(ws, "events")["reason"])
    assert got == {5: "unparsable_time", 6: "unknown_cell", 8: "malformed_row", 9: "unparsable_time",
                   11: "unknown_cell"}


def test_line_numbers_without_extra_columns(ws, tmp_path):
    events = tmp_path / "quoted.csv"
    events.write_text('subscriber_id,timestamp,cell_id\n"+86139\n00000001",2026-01-20T08:00:00Z,a1\n'
                      "+8613900000001,2026-01-20T08:00:00Z\n+8613900000001,soon,a1\n")
    ws.ingest("events", [events])
    assert dict(scenario.quarantined(ws, "events")["reason"]) == {4: "malformed_row", 5: "unparsable_time"}


@pytest.mark.parametrize("kind", ["struct", "list"])
def test_nested_parquet_columns_are_refused_in_one_line(ws, tmp_path, kind):
    cell = pa.array([{"id": "a1"}]) if kind == "struct" else pa.array([["a1", "b1"]])
    path = tmp_path / f"nested-{kind}.parquet"
    pq.write_table(pa.table({"subscriber_id": ["+8613900000001"], "timestamp": ["2026-01-20T08:00:00Z"],
                             "cell_id": cell}), path)
    before = lake_listing(ws)
    with pytest.raises(InputError, match=rf"nested-{kind}\.parquet, column 'cell_id': .*{kind}"):
        ws.ingest("events", [path])
    assert_one_line_error(cli("ingest", "events", path, "-w", ws.path), path.name, "cell_id")
    assert lake_listing(ws) == before


def test_nested_parquet_columns_popflow_does_not_read_are_ignored(ws, tmp_path):
    path = tmp_path / "extra.parquet"
    pq.write_table(pa.table({"subscriber_id": ["+8613900000001"], "timestamp": ["2026-01-20T08:00:00Z"],
                             "cell_id": ["a1"], "extra": pa.array([{"x": 1}])}), path)
    assert ws.ingest("events", [path])["rows"]["accepted"] == 1


def test_two_ingests_at_once_both_commit(ws, tmp_path):
    files = []
    for number in range(3):
        path = tmp_path / f"at-once-{number}.csv"
        scenario.random_events(20, days=1, per_day=3000 // 20, seed=70 + number).to_csv(path, index=False)
        files.append(path)
    before = len(ws.lake.batches("events"))
    rows_before = ws.connect().sql("SELECT count(*) FROM events").fetchall()[0][0]
    runs = [[files[0]], [files[1]], [files[2]], [files[2]]]  # the last two: the same file at once
    procs = [subprocess.Popen([sys.executable, "-m", "popflow", "ingest", "events", *p, "-w", str(ws.path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for p in runs]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * len(runs), outputs
    assert not any("Traceback" in out + err for out, err in outputs)
    reopened = popflow.Workspace(ws.path)
    assert len(reopened.lake.batches("events")) == before + 3  # the file given twice was committed once
    rows = reopened.connect().sql("SELECT count(*) FROM events").fetchall()[0][0]
    assert rows == rows_before + sum(len(pd.read_csv(f)) for f in files)
    assert not any((ws.path / ".staging").iterdir())


def test_an_ingest_waits_for_the_lock_then_gives_up_in_one_line(ws, tmp_path):
    from popflow.errors import PopflowError
    from popflow.lake import ingest_lock

    with ingest_lock(ws.path), pytest.raises(PopflowError, match="another ingest"):
        with ingest_lock(ws.path, wait=0.3):
            pass
    with ingest_lock(ws.path, wait=0.3):  # free again
        pass
