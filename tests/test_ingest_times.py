"""Ingest: event times outside the workspace's ``time_window`` are quarantined as implausible; DST gaps."""

from __future__ import annotations

import datetime
import zoneinfo

import duckdb
import pyarrow as pa
import pytest

import popflow
from popflow.errors import PopflowError
from popflow.ingest.parsing import instant_sql
from popflow.live import LiveOptions, run_stream
from popflow.settings import Settings, plausible_window

import scenario

EVENT_HEADER = "subscriber_id,timestamp,cell_id\n"




@pytest.fixture
def ws(small_ws):
    return small_ws


def test_implausible_event_times_are_quarantined_and_releases_still_run(ws, tmp_path):
    later = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    times = ["infinity", "-infinity", "0001-01-01T00:00:00Z", "1900-01-01T00:00:00Z", "2200-01-01T00:00:00Z",
             "1999-12-31T15:59:59Z", "99999-01-01T00:00:00Z", "1e309", "8613800001111", later]
    bad = tmp_path / "bad.csv"
    bad.write_text(EVENT_HEADER + "".join(f"+8613900000001,{t},a1\n" for t in times)
                   + "+8613900000001,2000-01-01T00:00:00+08:00,a1\n"  # the window's first instant (local)
                   + "+8613900000001,not a time,a1\n")
    report = ws.ingest("events", [bad])
    assert report["quarantined_by_reason"] == {"implausible_time": len(times), "unparsable_time": 1}
    assert report["rows"]["accepted"] == 1
    q = scenario.quarantined(ws, "events")
    assert set(q.loc[2:len(times) + 1, "column"]) == {"timestamp"}
    dates = {p.name for p in ws.path.joinpath("lake", "events").rglob("date=*")}
    assert dates and all(len(d) == len("date=2026-01-20") for d in dates), dates
    assert "date=2000-01-01" in dates
    result = ws.run("present-population").to_pandas()
    assert len(result) > 0


def test_implausible_ticket_and_sales_times(ws, tmp_path):
    tickets = tmp_path / "t.csv"
    tickets.write_text(
        "ticket_id,traveller_id,purchased_at,departs_at,origin,destination,destination_country,fare,currency\n"
        "T1,TRV1,2025-12-01T10:00:00+08:00,2026-01-10T08:00:00+08:00,CAN,BKK,TH,100,CNY\n"
        "T2,TRV1,1900-01-01T10:00:00+08:00,2026-01-10T08:00:00+08:00,CAN,BKK,TH,100,CNY\n"
        "T3,TRV1,2025-12-01T10:00:00+08:00,infinity,CAN,BKK,TH,100,CNY\n")
    report = ws.ingest("tickets", [tickets])
    assert report["quarantined_by_reason"] == {"implausible_time": 2}
    q = scenario.quarantined(ws, "tickets")
    assert q.loc[3, "column"] == "purchased_at" and q.loc[4, "column"] == "departs_at"
    sales = tmp_path / "s.csv"
    sales.write_text("order_id,customer_id,ordered_at,region_id,category,amount,currency\n"
                     "O1,C1,2026-01-20T10:00:00+08:00,A,food,1,CNY\n"
                     "O2,C1,2200-01-20T10:00:00+08:00,A,food,1,CNY\n"
                     "O3,C1,-infinity,A,food,1,CNY\n")
    assert ws.ingest("sales", [sales])["quarantined_by_reason"] == {"implausible_time": 2}
    fx = tmp_path / "fx.csv"
    fx.write_text("date,currency,rate_to_base\n2026-01-20,CNY,1\ninfinity,USD,7\n1990-01-01,USD,7\n")
    assert ws.ingest("fx", [fx])["quarantined_by_reason"] == {"implausible_time": 2}


def test_time_window_setting_is_read_from_popflow_toml(ws, tmp_path):
    settings = ws.path / "popflow.toml"
    assert "time_window" not in settings.read_text()  # the default moves with the clock: it is not stored
    settings.write_text(settings.read_text() + 'time_window = ["2026-01-20", "2026-01-21"]\n')
    events = tmp_path / "window.csv"
    events.write_text(EVENT_HEADER
                      + "+8613900000001,2026-01-19T23:59:59+08:00,a1\n"  # before the first local date
                      + "+8613900000001,2026-01-20T00:00:00+08:00,a1\n"
                      + "+8613900000001,2026-01-21T23:59:59+08:00,a1\n"  # the last date is included
                      + "+8613900000001,2026-01-22T00:00:00+08:00,a1\n")
    report = popflow.Workspace(ws.path).ingest("events", [events])
    assert report["quarantined_by_reason"] == {"implausible_time": 2}
    assert set(scenario.quarantined(ws, "events").index) == {2, 5}
    assert Settings.load(ws.path).time_window == ("2026-01-20", "2026-01-21")
    Settings.load(ws.path).save(ws.path)
    assert Settings.load(ws.path).time_window == ("2026-01-20", "2026-01-21")
    text = settings.read_text()
    settings.write_text(text[:text.index("time_window")] + "time_window = [2026-01-20, 2026-01-21]\n")  # TOML dates
    assert Settings.load(ws.path).time_window == ("2026-01-20", "2026-01-21")


@pytest.mark.parametrize("window", [("2026-01-01",), ("2026-02-01", "2026-01-01"), ("2026-01-01", "soon"), "2026"])
def test_bad_time_window_is_refused(window):
    with pytest.raises(PopflowError, match="time_window"):
        Settings(time_window=window)


def test_default_window_is_2000_to_one_day_after_now():
    now = datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.UTC)
    first, end = plausible_window(None, "Asia/Shanghai", now)
    assert first == datetime.datetime(2000, 1, 1, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert end == now + datetime.timedelta(days=1)
    first, end = plausible_window(("2010-01-01", "2010-12-31"), "UTC", now)
    assert (first.isoformat(), end.isoformat()) == ("2010-01-01T00:00:00+00:00", "2011-01-01T00:00:00+00:00")


def test_dst_gap_local_time_is_read_one_hour_later(tmp_path):
    """2026-03-08 02:30 does not exist in New York: it is read as 03:30 EDT (07:30 UTC), like the clocks."""
    ws = scenario.workspace(tmp_path, scenario.random_events(3, 1, 2), timezone="America/New_York")
    events = tmp_path / "dst.csv"
    events.write_text(EVENT_HEADER
                      + "+8613900000001,2026-03-08T02:30:00,a1\n"  # in the spring-forward gap
                      + "+8613900000002,2026-03-08T03:30:00,a1\n"  # the same instant, written as it exists
                      + "+8613900000003,2026-11-01T01:30:00,a1\n")  # repeated hour: the later (standard) one
    assert ws.ingest("events", [events])["rows"]["accepted"] == 3
    got = ws.connect().sql("SELECT t FROM events WHERE date IN ('2026-03-08', '2026-11-01') ORDER BY t").fetchall()
    local = [datetime.datetime.fromtimestamp(t, datetime.UTC).replace(tzinfo=None).isoformat() for (t,) in got]
    assert local == ["2026-03-08T03:30:00", "2026-03-08T03:30:00", "2026-11-01T01:30:00"]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'America/New_York'")
    instant = instant_sql("x", pa.string())
    utc = dict(con.sql(f"SELECT x, timezone('UTC', {instant})::VARCHAR FROM (VALUES ('2026-03-08T02:30:00'), "
                       "('2026-11-01T01:30:00')) v(x)").fetchall())
    assert utc == {"2026-03-08T02:30:00": "2026-03-08 07:30:00", "2026-11-01T01:30:00": "2026-11-01 06:30:00"}


def test_live_stream_quarantines_implausible_times(tmp_path):
    ws = scenario.workspace_without_events(tmp_path, people=4)
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "events-1.csv").write_text(EVENT_HEADER
                                          + "+8613900000001,2026-01-20T08:00:00+08:00,a1\n"
                                          + "+8613900000001,infinity,a1\n"
                                          + "+8613900000002,2200-01-01T00:00:00Z,b1\n")
    counters = run_stream(ws, f"dir:{landing}", LiveOptions(idle_exit=0.3, poll=0.05))
    assert counters["accepted"] == 1 and counters["quarantined"] == 2
    q = scenario.quarantined(ws, "events")
    assert dict(q["reason"]) == {3: "implausible_time", 4: "implausible_time"}
