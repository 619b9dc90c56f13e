"""Foreign column names (``--columns``): operators' exports read as they are, bad maps refused in one line."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from popflow.cli import app
from popflow.errors import PopflowError
from popflow.pseudonymise import KeyRing

import scenario

FLOWKIT_MAP = "subscriber_id = msisdn, timestamp = start_time, cell_id = location_id"
# A FlowKit-shaped CDR: its own names and order, extra columns, fields padded with spaces, a quoted
# counterpart holding a line break (so later rows start one line further down), an unknown cell.
FLOWKIT_CDR = (
    "id, outgoing, start_time ,msisdn,msisdn_counterpart,location_id,duration\n"
    "1, true , 2026-02-10T08:00:00+08:00 , +8613900000001 ,+8613911111111, a1 ,12\n"  # line 2
    '2,false,2026-02-10T09:30:00+08:00,+8613900000002,"+86139\n22222222", b1 ,40\n'  # 3-4
    "3,true,  1770690600  ,  +8613900000001,+8613933333333,zz,7\n"  # 5: unknown cell
    "4,true,2026-02-10T11:00:00+08:00,+8613900000003,,c1,3\n"  # 6
)


def events_on(ws, day: str) -> list[tuple]:
    return ws.connect().execute(
        "SELECT person, t % 86400 // 60 AS minute, cell_id, area_id, event_type FROM events WHERE date = ?::DATE "
        "ORDER BY t",
        [day]).fetchall()


def pseudonym(ws, phone: str) -> int:
    return KeyRing(ws.path).columns(pa.array([phone]))[0][0].as_py()


def test_flowkit_cdr_read_as_it_is(small_ws, tmp_path):
    cdr = tmp_path / "calls.csv"
    cdr.write_text(FLOWKIT_CDR)
    result = CliRunner().invoke(app, ["ingest", "events", str(cdr), "--columns", FLOWKIT_MAP,
                                      "-w", str(small_ws.path)])
    assert result.exit_code == 0, result.output
    rows = events_on(small_ws, "2026-02-10")
    assert [r[1:] for r in rows] == [(8 * 60, "a1", "A", "other"), (9 * 60 + 30, "b1", "B", "other"),
                                     (11 * 60, "c1", "C", "other")]
    assert [r[0] for r in rows] == [pseudonym(small_ws, f"+861390000000{i}") for i in (1, 2, 3)]
    q = scenario.quarantined(small_ws, "events")
    assert list(q.index) == [5] and q.loc[5, "reason"] == "unknown_cell" and q.loc[5, "column"] == "cell_id"
    assert "+8613900000001" not in q.loc[5, "record"] and "+86139" not in "".join(map(str, q.loc[5]))


def test_multimno_parquet_with_the_python_api(small_ws, tmp_path):
    when = [datetime.datetime(2026, 2, 11, h, tzinfo=datetime.UTC) for h in (1, 2, 3)]
    export = tmp_path / "multimno.parquet"
    pq.write_table(pa.table({"user_id": ["u1", " u2 ", "u1"], "timestamp": when, "cell_id": ["a2", "c1\t", "nope"],
                             "plmn": ["46000"] * 3}), export)
    report = small_ws.ingest("events", [export], columns={"subscriber_id": "user_id"})
    assert report["rows"] == {"read": 3, "accepted": 2, "quarantined": 1} and report["distinct_people"] == 2
    assert [(r[0], r[2]) for r in events_on(small_ws, "2026-02-11")] == [
        (pseudonym(small_ws, "u1"), "a2"), (pseudonym(small_ws, "u2"), "c1")]
    assert scenario.quarantined(small_ws, "events").loc[3, "reason"] == "unknown_cell"


def test_a_mapped_column_replaces_the_file_column_of_popflows_name(small_ws, tmp_path):
    """A file may hold a column named like one of popflow's that means something else."""
    export = tmp_path / "swapped.csv"
    export.write_text(" cell_id , timestamp,site, note\n+8613900000009,2026-02-12T08:00:00+08:00,b1,x\n")
    report = small_ws.ingest("events", [export], columns={"subscriber_id": "cell_id", "cell_id": "site"})
    assert report["rows"]["accepted"] == 1
    assert [(r[0], r[2]) for r in events_on(small_ws, "2026-02-12")] == [(pseudonym(small_ws, "+8613900000009"),
                                                                         "b1")]


BAD_MAPS = [
    ("subscriber_id=msisdn,phone=msisdn_counterpart", "phone is not a column of events"),
    ("subscriber_id=msisdn,timestamp=start_time,cell_id=cell", "calls.csv, column 'cell': mapped to cell_id"),
    ("subscriber_id=msisdn,subscriber_id=msisdn_counterpart", "subscriber_id is mapped twice"),
    ("subscriber_id=msisdn,timestamp=msisdn", "'msisdn' is mapped to both subscriber_id and timestamp"),
    ("subscriber_id", "'subscriber_id' is not popflow_name=file_name"),
    ("subscriber_id=msisdn,timestamp=start_time", "column 'cell_id': required column is missing"),
]


@pytest.mark.parametrize(("columns", "message"), BAD_MAPS)
def test_a_bad_map_gets_one_line_and_changes_nothing(small_ws, tmp_path, columns, message):
    cdr = tmp_path / "calls.csv"
    cdr.write_text(FLOWKIT_CDR)
    lake_before = sorted(small_ws.lake.root.rglob("*"))
    result = CliRunner().invoke(app, ["ingest", "events", str(cdr), "--columns", columns, "-w", str(small_ws.path)])
    assert result.exit_code == 2 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert sorted(small_ws.lake.root.rglob("*")) == lake_before


def test_geojson_areas_take_no_map(small_ws):
    result = CliRunner().invoke(app, ["ingest", "areas", str(small_ws.path / "x.geojson"), "--columns",
                                      "area_id=id", "-w", str(small_ws.path)])
    assert result.exit_code == 2 and "GeoJSON" in result.output, result.output


def test_the_map_is_checked_before_any_file_is_read(small_ws, tmp_path):
    """Python callers get the same error as the command line, even for a file that does not exist."""
    with pytest.raises(PopflowError, match="cell is not a column of events"):
        small_ws.ingest("events", [tmp_path / "absent.csv"], columns={"cell": "location_id"})
