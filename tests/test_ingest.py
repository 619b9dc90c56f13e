"""Ingest: quarantine reasons, clear failures that change nothing, atomicity, idempotency."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time

import duckdb
import numpy as np
import pandas as pd
import pytest

import popflow
from popflow.errors import InputError
from popflow.ingest.quality import PERCENTILES

import scenario


def lake_state(ws: popflow.Workspace) -> tuple:
    return (tuple(b["id"] for b in ws.catalogue()), tuple(str(f) for f in ws.lake.data_files("events")))


def quarantine(ws: popflow.Workspace, source: str) -> pd.DataFrame:
    files = [str(f) for f in ws.lake.quarantine_files(source)]
    return duckdb.sql(f"SELECT * FROM read_parquet({files})").df()


@pytest.fixture
def ws(tmp_path):
    events = scenario.random_events(n_people=20, days=2, per_day=5)
    return scenario.workspace(tmp_path, events, scenario.subscribers(20))


def test_each_event_quarantine_reason(ws, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "subscriber_id,timestamp,cell_id,event_type,mcc\n"
        "+8613900000001,2026-01-20T08:00:00+08:00,a1,call,460\n"  # line 2: good
        "+8613900000001,yesterday,a1,call,460\n"  # 3: unparsable_time
        "+8613900000001,2026-01-20T08:00:00+08:00,zz,call,460\n"  # 4: unknown_cell
        ",2026-01-20T08:00:00+08:00,a1,call,460\n"  # 5: missing_field
        "+8613900000001,2026-01-20T08:00:00+08:00,a1,fax,460\n"  # 6: invalid_value
        "+8613900000001,2026-01-20T08:00:00+08:00\n"  # 7: malformed_row
        "+8613900000001,1768867200,b1,sms,\n"  # 8: good (epoch seconds)
    )
    report = ws.ingest("events", [bad])
    assert report["rows"] == {"read": 7, "accepted": 2, "quarantined": 5}
    q = quarantine(ws, "events").set_index("line")
    assert q.loc[3, "reason"] == "unparsable_time" and q.loc[3, "column"] == "timestamp"
    assert q.loc[4, "reason"] == "unknown_cell"
    assert q.loc[5, "reason"] == "missing_field"
    assert q.loc[6, "reason"] == "invalid_value" and q.loc[6, "column"] == "event_type"
    assert q.loc[7, "reason"] == "malformed_row"
    assert set(q["file"]) == {str(bad)}
    assert "+8613900000001" not in " ".join(q["record"].dropna())


def test_report_figures_are_those_of_the_accepted_rows(ws, tmp_path):
    """One file wholly accepted, one with refused rows: the report counts, spans and tallies people over the
    accepted rows of both, and only the refused rows reach the quarantine."""
    events = scenario.random_events(6, 2, 4, seed=5)
    clean, mixed = tmp_path / "clean.parquet", tmp_path / "mixed.csv"
    events.iloc[:20].to_parquet(clean)
    refused = events.index[20:23]
    events.loc[refused, "cell_id"] = "zz"
    events.iloc[20:].to_csv(mixed, index=False)
    report = ws.ingest("events", [clean, mixed])
    accepted = events.drop(index=refused)
    assert report["rows"] == {"read": len(events), "accepted": len(accepted), "quarantined": 3}
    times = pd.to_datetime(accepted["timestamp"]).dt.tz_convert(scenario.TIMEZONE)
    assert report["time_span"] == {"first": times.min().isoformat(), "last": times.max().isoformat()}
    per_person = accepted.groupby("subscriber_id").size()
    assert report["distinct_people"] == len(per_person)
    assert report["records_per_person"] == {  # to the report's one decimal
        f"p{round(p * 100)}": pytest.approx(per_person.quantile(p), abs=0.051) for p in PERCENTILES}
    assert sorted(quarantine(ws, "events")["line"]) == [2, 3, 4] and report["quarantined_by_reason"] == {
        "unknown_cell": 3}


def test_cell_outside_every_area_is_reported_and_its_events_quarantined(tmp_path):
    ws = popflow.Workspace.init(tmp_path / "ws", timezone=scenario.TIMEZONE)
    paths = scenario.write_inputs(tmp_path, scenario.random_events(3, 1, 2))
    ws.ingest("areas", [paths["areas"]])
    cells = tmp_path / "cells2.csv"
    cells.write_text("cell_id,latitude,longitude\na1,0.5,0.5\nfar,40,100\n")
    assert ws.ingest("cells", [cells])["cells_outside_every_area"] == 1
    ev = tmp_path / "ev.csv"
    ev.write_text("subscriber_id,timestamp,cell_id\n+86139001,2026-01-20T08:00:00Z,far\n")
    assert ws.ingest("events", [ev])["quarantined_by_reason"] == {"cell_outside_areas": 1}


def test_subscriber_and_population_reasons(ws, tmp_path):
    subs = tmp_path / "subs.csv"
    subs.write_text("subscriber_id,gender,birth_year,origin_region\n"
                    "+8613900000001,F,1980,440000\n"  # duplicate of an earlier ingest
                    "+8699,Q,1980,440000\n"  # invalid gender
                    "+8698,F,next,440000\n"  # invalid birth year
                    "+8697,f,2001,440000\n"  # good (gender case folded)
                    "+8697,M,2001,440000\n")  # duplicate within the file
    report = ws.ingest("subscribers", [subs])
    assert report["quarantined_by_reason"] == {"duplicate_key": 2, "invalid_value": 2}
    pop = tmp_path / "pop.csv"
    pop.write_text("area_id,population,adults\nA,100,80\nZ,5,1\nB,-3,\nC,10,20\n")
    report = ws.ingest("population", [pop])
    assert report["quarantined_by_reason"] == {"invalid_value": 1, "negative_amount": 1, "unknown_area": 1}


def test_age_bands(ws):
    bands = ws.connect().sql("SELECT DISTINCT age_band FROM subscribers").df()["age_band"]
    assert set(bands) <= {"<15", "80+"} | {f"{a}-{a + 4}" for a in range(15, 80, 5)}


def test_unreadable_and_wrong_schema_files_fail_and_change_nothing(ws, tmp_path):
    before = lake_state(ws)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("msisdn,when,cell\n1,2,3\n")
    with pytest.raises(InputError) as err:
        ws.ingest("events", [wrong])
    assert "wrong.csv" in str(err.value) and "subscriber_id" in str(err.value)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(InputError, match="broken.parquet"):
        ws.ingest("events", [broken])
    corrupt = tmp_path / "corrupt.csv.gz"
    corrupt.write_bytes(gzip.compress(b"subscriber_id,timestamp,cell_id\n")[:-8] + b"garbage!")
    with pytest.raises(InputError, match="corrupt.csv.gz"):
        ws.ingest("events", [corrupt])
    assert lake_state(ws) == before


def test_same_file_twice_adds_nothing(ws, tmp_path):
    events = scenario.random_events(5, 1, 3, seed=9)
    path = tmp_path / "again.csv"
    events.to_csv(path, index=False)
    first = ws.ingest("events", [path])
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes())
    second = ws.ingest("events", [copy])
    assert first["rows"]["accepted"] == len(events) > 0
    assert second["rows"]["read"] == 0 and second["files_already_ingested"] == [str(copy)]


def test_gzip_csv_and_parquet_and_directories(ws, tmp_path):
    events = scenario.random_events(4, 1, 3, seed=11)
    folder = tmp_path / "drop"
    folder.mkdir()
    events.iloc[:6].to_csv(folder / "part1.csv.gz", index=False, compression="gzip")
    events.iloc[6:].to_parquet(folder / "part2.parquet")
    assert ws.ingest("events", [folder])["rows"]["accepted"] == len(events)


def big_events_csv(path, rows: int) -> None:
    rng = np.random.default_rng(0)
    seconds = 1768867200 + rng.integers(0, 86400, rows)
    cells = np.array(["a1", "b1", "c1"])[rng.integers(0, 3, rows)]
    ids = rng.integers(0, 50_000, rows)
    pd.DataFrame({"subscriber_id": ids, "timestamp": seconds, "cell_id": cells}).to_csv(path, index=False)


@pytest.mark.slow
def test_killed_ingest_leaves_lake_as_before(ws, tmp_path):
    big = tmp_path / "big.csv"
    big_events_csv(big, 3_000_000)
    before = lake_state(ws)
    for delay in (0.5, 1.5, 3.0):
        proc = subprocess.Popen([sys.executable, "-m", "popflow", "ingest", "events", str(big),
                                 "--workspace", str(ws.path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        reopened = popflow.Workspace(ws.path)
        if lake_state(reopened) != before:  # the kill came after the commit: the whole batch is there
            assert len(reopened.catalogue()) == len(before[0]) + 1
            assert reopened.catalogue()[-1]["quality"]["rows"]["read"] == 3_000_000
            return
    report = popflow.Workspace(ws.path).ingest("events", [big])
    assert report["rows"]["read"] == 3_000_000
    assert not any((ws.path / ".staging").iterdir())  # crash leftovers were collected


def test_a_lake_sees_batches_another_process_commits(ws, tmp_path):
    """Batch records are kept per Lake, yet a batch committed elsewhere shows on the next call."""
    folder = ws.path / "lake" / "events"
    long_ago = time.time_ns() - 3600 * 10**9
    os.utime(folder, ns=(long_ago, long_ago))  # a folder old enough for its listing to be kept
    seen = ws.lake.batches("events")
    assert ws.lake.batches("events") == seen and seen
    for number in range(2):
        more = tmp_path / f"more-{number}.csv"
        scenario.random_events(3, days=1, per_day=2, seed=number + 40).to_csv(more, index=False)
        popflow.Workspace(ws.path).ingest("events", [more])
        assert len(ws.lake.batches("events")) == len(seen) + number + 1
        assert len(ws.lake.data_files("events")) > len(seen)
