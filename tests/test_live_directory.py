"""Live mode from a landing directory: write-then-rename, each file once, kills and restarts."""

from __future__ import annotations

import random
import shutil
import threading
import time

import pytest

import popflow
from popflow.live import LiveOptions, replay, run_stream
from popflow.live.directory import is_final_name

from scenario import CELLS, phone, workspace_without_events
from test_live_support import (
    assert_live_matches_batch,
    finish,
    kill,
    lake_events,
    multiset,
    source_events,
    stream_process,
    synthetic_inputs,
    workspace_with_dimensions,
)


@pytest.mark.slow
def test_killed_directory_stream_processes_each_file_once(tmp_path):
    inputs = synthetic_inputs(tmp_path / "synth", people=1000)
    ws = workspace_with_dimensions(tmp_path / "ws", inputs)
    landing = tmp_path / "landing"
    producer = threading.Thread(target=replay, args=(inputs, f"dir:{landing}", 86_400 / 10),
                                kwargs={"events_per_message": 300})
    producer.start()
    rng = random.Random(5)
    for _ in range(3):
        proc = stream_process(ws, f"dir:{landing}", "--checkpoint-every", "1s")
        time.sleep(rng.uniform(2.0, 4.0))
        kill(proc)
    producer.join()
    finish(stream_process(ws, f"dir:{landing}", "--checkpoint-every", "1s", "--idle-exit", "1"))
    assert multiset(lake_events(ws)).equals(multiset(source_events(inputs, ws)))
    assert_live_matches_batch(ws)
    assert_live_matches_batch(ws, by=("gender", "origin_region"), level="city")
    batches = len(ws.lake.batches("events"))
    finish(stream_process(ws, f"dir:{landing}", "--idle-exit", "0.5"))  # a restart finds nothing new
    assert len(ws.lake.batches("events")) == batches
    assert popflow.Workspace(ws.path).ingest("events", [landing])["rows"]["read"] == 0  # batch ingest agrees


def test_half_written_files_are_never_read(tmp_path):
    ws = workspace_without_events(tmp_path)
    landing = tmp_path / "landing"
    landing.mkdir()
    rows = {"1": _event_lines(0, 30), "2": _event_lines(30, 30)}
    hidden, suffixed = landing / ".events-1.csv", landing / "events-2.csv.tmp"
    stop = threading.Event()
    options = LiveOptions(checkpoint_every=0.2, poll=0.05, refresh=0.2)
    runner = threading.Thread(target=run_stream, args=(ws, f"dir:{landing}", options, stop))
    runner.start()
    try:
        for path, part in ((hidden, rows["1"]), (suffixed, rows["2"])):  # half written, a partial line last
            with path.open("w") as fh:
                fh.write("subscriber_id,timestamp,cell_id\n" + "\n".join(part[:10]) + "\n" + part[10][:9])
        time.sleep(1.0)
        assert len(lake_events(ws)) == 0 and not ws.lake.batches("events")
        for path, name in ((hidden, "1"), (suffixed, "2")):
            with path.open("a") as fh:
                fh.write(rows[name][10][9:] + "\n" + "\n".join(rows[name][11:]) + "\n")
            path.rename(landing / f"events-{name}.csv")
        shutil.copy(landing / "events-1.csv", landing / "events-1-again.csv")  # same content, new name
        _wait_for(lambda: len(lake_events(ws)) >= 60)
        time.sleep(0.5)
    finally:
        stop.set()
        runner.join(30)
    assert len(lake_events(ws)) == 60
    assert sum(b["quality"]["rows"]["quarantined"] for b in ws.lake.batches("events")) == 0
    batches = len(ws.lake.batches("events"))
    run_stream(ws, f"dir:{landing}", LiveOptions(idle_exit=0.3, poll=0.05))  # restart: nothing is read twice
    assert len(ws.lake.batches("events")) == batches and len(lake_events(ws)) == 60


def test_final_names_follow_the_convention():
    assert is_final_name("events-1.csv") and is_final_name("events.parquet")
    assert not is_final_name(".events-1.csv") and not is_final_name("events-1.csv.tmp")


def _event_lines(first: int, count: int) -> list[str]:
    cells = CELLS["cell_id"].tolist()
    return [f"{phone(i)},2026-01-20T08:{i:02d}:00+08:00,{cells[i % len(cells)]}" for i in range(first, first + count)]


def _wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
