"""The live view in the workspace's default privacy mode: ckm as a batch ckm release, dp refused."""

from __future__ import annotations

import random

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from click.testing import CliRunner
from test_live_engine import engine, message

import popflow
from popflow.cli import app
from popflow.disclosure.cell_key import CellKeyMethod, record_key, record_key_sql
from popflow.disclosure.k_anonymity import KAnonymity
from popflow.errors import PopflowError
from popflow.live import LiveView
from popflow.live.engine import LiveEngine
from popflow.live.publish import FINEST, Publisher
from popflow.live.store import read_snapshot

from scenario import workspace_without_events
from test_live_support import assert_live_matches_batch, with_settings

K = 5


def test_record_keys_in_python_equal_the_sql_ones():
    rng = np.random.default_rng(7)
    persons = [0, 1, -1, 2**63 - 1, -(2**63), *rng.integers(-(2**63), 2**63 - 1, 500, dtype=np.int64).tolist()]
    con = duckdb.connect()
    con.register("people", pa.table({"person": pa.array(persons, pa.int64())}))
    salt = "0123456789abcdef0123456789abcdef"
    sql = con.sql(f"SELECT {record_key_sql(salt)} AS key FROM people").to_arrow_table()["key"].to_pylist()
    assert sql == [record_key(salt, p) for p in persons]
    assert len(set(sql)) > 200  # keys spread over 0–255


@pytest.fixture
def ckm_ws(tmp_path) -> popflow.Workspace:
    return with_settings(workspace_without_events(tmp_path, people=300), default_privacy="ckm", k_anonymity=K)


def test_the_ckm_live_view_equals_the_batch_ckm_release(ckm_ws):
    rng = random.Random(11)
    cells = ["a1", "a2", "b1", "c1"]
    rows = [(rng.randrange(330), f"{rng.randrange(6, 12):02d}:{rng.randrange(60):02d}", rng.choice(cells))
            for _ in range(4000)]
    rows.sort(key=lambda row: row[1])  # in time order, so bins close as the stream goes
    chunks = [rows[i:i + 500] for i in range(0, len(rows), 500)]
    first = engine(ckm_ws, lateness=1800)
    for number, chunk in enumerate(chunks[:4]):
        first.process([message(chunk, f"c{number}")])
        first.commit()
    first.close()  # a restart rebuilds the open bins from the lake and the closed ones from their cubes
    live = engine(ckm_ws, lateness=1800)
    for number, chunk in enumerate(chunks[4:], start=4):
        live.process([message(chunk, f"c{number}")])
        live.commit()
    live.publish(force=True)
    snap = LiveView(ckm_ws.path).snapshot()
    assert snap.freshness["privacy"]["mode"] == "ckm" and snap.freshness["privacy"]["max_perturbation"] == 3
    assert any(b["final"] for b in snap.freshness["bins"]) and not all(b["final"] for b in snap.freshness["bins"])
    assert assert_live_matches_batch(ckm_ws, privacy="ckm") > 10
    assert assert_live_matches_batch(ckm_ws, by=("gender",), privacy="ckm") > 20
    assert_live_matches_batch(ckm_ws, by=("gender", "origin_region"), level="city")  # the default: ckm
    exact = popflow.Workspace(ckm_ws.path).run("present-population", method="observed", by="gender",
                                               privacy="k").to_pandas().set_index(["time", "area_id", "gender"])
    perturbed = LiveView(ckm_ws.path).snapshot(by=("gender",)).to_pandas().set_index(["time", "area_id", "gender"])
    assert sorted(perturbed.index) == sorted(exact.index)  # the cells of k pass, and only they
    change = (perturbed["people"] - exact["people"].reindex(perturbed.index)).abs()
    assert change.max() <= 3 and (change > 0).any()
    assert_alerts_read_the_published_cells(live)
    live.close()


def assert_alerts_read_the_published_cells(live: LiveEngine) -> None:
    """The live alerts' history of closed bins holds the snapshot's (perturbed) cells."""
    history = live.snapshots.alerts.history()
    table, _ = read_snapshot(live.folder.snapshot)
    closed = pa.array(sorted(live.closed), pa.int64())
    shown = table.filter(pc.and_(pc.equal(table["breakdowns"], ""), pc.is_in(table["time"], closed)))
    shown = shown.filter(pc.equal(shown["level"], FINEST))
    from_history = history.filter(pc.and_(pc.equal(history["level"], FINEST), pc.is_in(history["time"], closed)))
    key = [("time", "ascending"), ("area_id", "ascending")]
    assert shown.num_rows > 0
    assert (from_history.select(["time", "area_id", "people"]).sort_by(key)
            .equals(shown.select(["time", "area_id", "people"]).sort_by(key)))


def test_a_dp_workspace_refuses_to_stream(tmp_path):
    ws = with_settings(workspace_without_events(tmp_path), default_privacy="dp")
    with pytest.raises(PopflowError, match="cannot publish in dp mode"):
        engine(ws)
    landing = tmp_path / "landing"
    landing.mkdir()
    result = CliRunner().invoke(app, ["stream", "--source", f"dir:{landing}", "-w", str(ws.path), "--idle-exit", "1"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "cannot publish in dp mode" in lines[0], result.output
    assert not (ws.path / "live" / "stream.lock").exists() and not ws.lake.batches("events")


def test_cells_counted_before_record_keys_were_kept_are_left_out_in_ckm():
    rows = [{"area_id": a, "name": a, "parent_id": "X" if a != "X" else None, "level": "city" if a == "X" else
             "district", "geometry": None} for a in ("A", "B", "X")]
    old = pa.table({"time": [0, 0], "area_id": ["A", "B"], "gender": ["F", "M"], "age_band": ["20-24", "20-24"],
                    "origin_region": ["1", "1"], "people": [6, 9]})  # a cube from before record keys
    published, left_out = Publisher(duckdb.connect(), rows, KAnonymity(K, 0.5)).publish(old)
    mechanism = CellKeyMethod(K, 0.5, 3, 1.0, salt="s")
    perturbed, ckm_left_out = Publisher(duckdb.connect(), rows, mechanism).publish(old)
    assert published.num_rows > 0 and perturbed.num_rows == 0
    assert ckm_left_out == left_out + published.num_rows
