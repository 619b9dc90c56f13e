"""The quarantine never keeps a raw value that could identify a person, whatever column it arrived in;
ticket and order ids are pseudonymised like person ids. Batch ingest, every quarantine path, and live."""

from __future__ import annotations

import json
import re

import duckdb
import pyarrow.parquet as pq

import popflow
from popflow.live import LiveOptions, run_stream

import scenario

# Raw values that identify a person (phone numbers, traveller, ticket, customer and order ids), each put
# only in rows that end up quarantined, or as ids the lake must pseudonymise.
PHONES = [f"86138{n:08d}" for n in range(1, 40)]
TICKET_IDS = ["TKT-SECRET-0001", "TKT-SECRET-0002"]
ORDER_IDS = ["ORD-SECRET-0001", "ORD-SECRET-0002"]
HASH = re.compile(r"hmac:[0-9a-f]{16}")


def phone(i: int) -> str:
    return PHONES[i]


def write(path, text: str):
    path.write_text(text)
    return path


def texts_in(path) -> list[str]:
    """A file's bytes as text, plus every decoded value of a Parquet file (pages may be compressed)."""
    texts = [path.read_bytes().decode("latin-1")]
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        texts.extend(str(v) for column in table.columns for v in column.to_pylist())
    return texts


def assert_nothing_raw(folder, raw: list[str]) -> int:
    scanned = 0
    for path in folder.rglob("*"):
        if path.is_file() and path.name != "secret.key":
            scanned += 1
            for text in texts_in(path):
                found = [r for r in raw if r in text]
                assert not found, (path, found)
    return scanned


def records(ws: popflow.Workspace, source: str) -> list[tuple[str, dict | None]]:
    files = [str(f) for f in ws.lake.quarantine_files(source)]
    rows = duckdb.sql(f"SELECT reason, record FROM read_parquet({files}) ORDER BY line").fetchall()
    return [(reason, json.loads(record) if record else None) for reason, record in rows]


def swapped_inputs(folder):
    """Inputs of every source in which a person's number sits in a column where it does not belong."""
    folder.mkdir()
    good = "2026-01-20T08:00:00+08:00"
    departs = "2026-01-10T08:00:00+08:00,CAN,BKK,TH"
    return {
        "events": write(folder / "events.csv", "subscriber_id,timestamp,cell_id,event_type,mcc\n"
                        f"{good},{phone(0)},C1,call,460\n"  # swapped: the number under timestamp
                        f"+{phone(1)},{good},{phone(2)},call,460\n"  # a number as the cell
                        f"+{phone(3)},{good},a1,{phone(4)},460\n"  # ... as the event type
                        f"+{phone(5)},{good},a1,call,{phone(6)}\n"  # ... as the MCC
                        f"+{phone(7)},{good},a1,call\n"  # malformed (a field short)
                        f"{phone(8)},not-a-time,a1,sms,460\n"),
        "subscribers": write(folder / "subscribers.csv", "subscriber_id,gender,birth_year,origin_region\n"
                             f"+8613900000001,F,1980,{phone(9)}\n"  # duplicate of an earlier ingest
                             f"+{phone(10)},{phone(11)},1980,440000\n"  # a number as the gender
                             f"+{phone(12)},F,{phone(13)},440000\n"  # ... as the birth year
                             f"+{phone(14)},M,1990,440000\n"
                             f"+{phone(14)},F,1991,{phone(15)}\n"),  # duplicate within the file
        "tickets": write(folder / "tickets.csv", "ticket_id,traveller_id,purchased_at,departs_at,origin,"
                         "destination,destination_country,fare,currency,cabin,channel\n"
                         f"{TICKET_IDS[0]},TRV1,2025-12-01T10:00:00+08:00,{departs},100,CNY,economy,web\n"
                         f"{TICKET_IDS[0]},TRV2,2025-12-01T10:00:00+08:00,{departs},100,CNY,economy,{phone(16)}\n"
                         f"{TICKET_IDS[1]},TRV3,2025-12-01T10:00:00+08:00,{departs},{phone(17)}x,CNY,economy,web\n"
                         f"T3,{phone(18)},2025-12-01T10:00:00+08:00,2026-01-10T08:00:00+08:00,{phone(19)},BKK,TH,"
                         "1,CNY,,\n"),
        "sales": write(folder / "sales.csv", "order_id,customer_id,ordered_at,region_id,category,amount,currency\n"
                       f"{ORDER_IDS[0]},C1,{good},A,food,1,CNY\n"
                       f"{ORDER_IDS[0]},C2,{good},A,{phone(20)},1,CNY\n"  # duplicate order id
                       f"{ORDER_IDS[1]},C3,{good},{phone(21)},food,1,CNY\n"
                       f"O4,C4,{good},A,food,{phone(22)}x,CNY\n"),
        "population": write(folder / "population.csv", "area_id,population\n"
                            f"{phone(23)},100\nA,{phone(24)}x\nB,5\nB,{phone(25)}\n"),
        "fx": write(folder / "fx.csv", f"date,currency,rate_to_base\n2026-01-20,CNY,1\n{phone(26)},USD,7\n"
                    f"2026-01-20,{phone(27)},7\n2026-01-21,USD,{phone(28)}x\n2026-01-21,CNY,1\n"
                    f"2026-01-21,EUR,1\n"),
        "cells": write(folder / "cells.csv", "cell_id,latitude,longitude,valid_from\n"
                       f"{phone(29)},95,0.5,\nz9,0.5,{phone(30)},\nz8,0.5,0.5,{phone(31)}\n"),
    }


def test_swapped_columns_and_every_quarantine_path_keep_no_raw_value(tmp_path):
    ws = scenario.workspace(tmp_path, scenario.random_events(n_people=6, days=1, per_day=4), scenario.subscribers(6))
    inputs = swapped_inputs(tmp_path / "swapped")
    reports = {source: ws.ingest(source, [path]) for source, path in inputs.items()}
    assert reports["events"]["rows"] == {"read": 6, "accepted": 0, "quarantined": 6}
    assert reports["subscribers"]["quarantined_by_reason"] == {"duplicate_key": 2, "invalid_value": 2}
    assert reports["tickets"]["quarantined_by_reason"] == {"duplicate_key": 1, "invalid_value": 1,
                                                           "unknown_airport": 1}
    assert reports["sales"]["quarantined_by_reason"] == {"duplicate_key": 1, "invalid_value": 1,
                                                         "unknown_area": 1}
    assert reports["population"]["quarantined_by_reason"] == {"duplicate_key": 1, "invalid_value": 1,
                                                              "unknown_area": 1}
    assert reports["fx"]["quarantined_by_reason"] == {"ambiguous_base_currency": 2, "invalid_value": 1,
                                                      "unknown_currency": 1, "unparsable_time": 1}
    assert reports["cells"]["quarantined_by_reason"] == {"invalid_value": 2, "implausible_time": 1}
    raw = PHONES + [f"+{p}" for p in PHONES] + TICKET_IDS + ORDER_IDS
    assert assert_nothing_raw(ws.path, raw) > 20
    swapped = records(ws, "events")[0]
    assert swapped[0] == "implausible_time" and HASH.fullmatch(swapped[1]["timestamp"])
    assert swapped[1]["cell_id"] != "C1" and swapped[1]["event_type"] == "call" and swapped[1]["mcc"] == "460"
    assert records(ws, "events")[4] == ("malformed_row", None)
    for source in ("subscribers", "tickets", "sales", "population", "fx", "cells"):
        for reason, record in records(ws, source):
            assert record, (source, reason)
            assert all(v is None or HASH.fullmatch(v) or re.fullmatch(r"-?\d+|[A-Za-z]{1,8}|[0-9]{3}", v)
                       for v in record.values()), (source, record)


def test_ticket_and_order_ids_are_pseudonyms_and_repeats_are_still_found(tmp_path):
    ws = scenario.workspace(tmp_path, scenario.random_events(n_people=4, days=1, per_day=2))
    tickets = scenario.random_tickets(5, weeks=2, per_week=4, start="2025-12-01")
    sales = scenario.random_sales(5, days=1, per_day=4)
    scenario.ingest_frames(ws, tmp_path / "first", tickets=tickets, sales=sales)
    again = {"tickets": tickets.assign(traveller_id="TRV-OTHER"), "sales": sales.assign(customer_id="CUS-OTHER")}
    folder = tmp_path / "again"
    folder.mkdir()
    for source, frame in again.items():  # the same ids in new files: each row is a repeat
        frame.to_csv(folder / f"{source}.csv", index=False)
        assert ws.ingest(source, [folder / f"{source}.csv"])["quarantined_by_reason"] == {
            "duplicate_key": len(frame)}
    con = ws.connect()
    assert con.sql("SELECT count(DISTINCT ticket_id), typeof(any_value(ticket_id)) FROM tickets").fetchall() == [
        (len(tickets), "BIGINT")]
    assert con.sql("SELECT count(DISTINCT order_id) FROM sales").fetchall() == [(len(sales),)]
    raw = list(tickets["ticket_id"]) + list(sales["order_id"]) + list(tickets["traveller_id"])
    assert_nothing_raw(ws.path, raw)


def test_live_stream_quarantine_keeps_no_raw_value(tmp_path):
    ws = scenario.workspace_without_events(tmp_path, people=4)
    landing = tmp_path / "landing"
    landing.mkdir()
    write(landing / "events-1.csv", "subscriber_id,timestamp,cell_id\n"
          f"2026-01-05T08:00:00+08:00,{phone(32)},a1\n"  # swapped columns
          f"+{phone(33)},2026-01-20T08:00:00+08:00,{phone(34)}\n"  # a number as the cell
          f"+{phone(35)},2026-01-20T08:00:00+08:00\n"  # malformed
          f"+{phone(36)},2026-01-20T08:00:00+08:00,a1\n")  # good
    counters = run_stream(ws, f"dir:{landing}", LiveOptions(idle_exit=0.3, poll=0.05))
    assert counters["accepted"] == 1 and counters["quarantined"] == 3
    assert [reason for reason, _ in records(ws, "events")] == ["implausible_time", "unknown_cell", "malformed_row"]
    assert HASH.fullmatch(records(ws, "events")[0][1]["timestamp"])
    assert_nothing_raw(ws.path, PHONES[32:37] + [f"+{p}" for p in PHONES[32:37]])
