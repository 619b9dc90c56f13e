"""The live engine on hand-made events: lateness, out-of-order chunks, crashes between commits."""

from __future__ import annotations

import random

import pytest

import popflow
from popflow.errors import PopflowError
from popflow.live import LiveOptions, LiveView
from popflow.live.engine import LiveEngine
from popflow.live.wire import decode

from scenario import phone, workspace_without_events
from test_live_support import assert_live_matches_batch, lake_events

HEADER = "subscriber_id,timestamp,cell_id\n"


@pytest.fixture
def ws(tmp_path) -> popflow.Workspace:
    return workspace_without_events(tmp_path)


def engine(ws, **options) -> LiveEngine:
    return LiveEngine(ws, LiveOptions(**{"refresh": 0.0, "retain": 3 * 86_400, **options}), "test:source")


def message(rows: list[tuple[int, str, str]], origin: str = "m"):
    """A CSV message of (person number, local time HH:MM on 2026-01-20, cell) rows."""
    lines = [f"{phone(p)},2026-01-20T{hhmm}:00+08:00,{cell}" for p, hhmm, cell in rows]
    return decode((HEADER + "\n".join(lines)).encode(), origin)


def cells(ws, **kwargs) -> dict:
    frame = LiveView(ws).snapshot(**kwargs).to_pandas()
    return {(t.strftime("%H:%M"), a): n for t, a, n in zip(frame["time"], frame["area_id"], frame["people"],
                                                          strict=True)}


def test_late_events_update_open_bins_and_are_reported_when_too_late(ws):
    live = engine(ws, bin=3600, lateness=1800)
    live.process([message([(0, "08:10", "a1"), (1, "08:10", "a1"), (2, "08:10", "a1"), (3, "08:20", "b1")])])
    live.commit()  # high-water 08:20: the 08:00 bin stays open until 09:30
    live.process([message([(4, "10:00", "c1"), (5, "10:00", "c1")])])
    live.process([message([(6, "08:15", "b1"), (7, "08:15", "b1")])])  # before the commit: still on time
    live.commit()  # high-water 10:00 closes the 08:00 bin
    live.process([message([(8, "08:50", "b1"), (9, "08:55", "b1"), (10, "09:40", "a1"), (11, "09:45", "a1")])])
    live.commit()
    live.publish(force=True)
    assert cells(ws) == {("08:00", "A"): 3, ("08:00", "B"): 3, ("09:00", "A"): 2, ("10:00", "C"): 2}
    snap = LiveView(ws).snapshot()
    assert [b["final"] for b in snap.freshness["bins"]] == [True, False, False]
    assert snap.freshness["events"] == {"accepted": 12, "quarantined": 0, "late": 2}
    assert ws.lake.batches("events")[-1]["live"]["late_events"] == 2
    assert len(lake_events(ws)) == 12  # late events reach the lake: batch indicators count them
    batch = popflow.Workspace(ws.path).run("present-population", method="observed").to_pandas()
    assert batch.loc[batch["time"].dt.hour == 8].set_index("area_id")["people"].to_dict() == {"A": 3, "B": 5}
    live.close()


def test_out_of_order_chunks_and_a_crash_between_commits_give_the_batch_counts(ws):
    rng = random.Random(3)
    cells_ = ["a1", "a2", "b1", "c1"]
    rows = [(rng.randrange(60), f"{rng.randrange(6, 12):02d}:{rng.randrange(60):02d}", rng.choice(cells_))
            for _ in range(600)]
    chunks = [rows[i:i + 100] for i in range(0, len(rows), 100)]  # each chunk spans the whole morning
    first = engine(ws, lateness=6 * 3600)
    first.process([message(chunks[0], "c0")])
    first.commit()
    first.process([message(chunks[1], "c1")])
    first.close()  # "crash": chunk 1 was counted in memory but never committed
    second = engine(ws, lateness=6 * 3600)
    for number, chunk in enumerate(chunks[1:], start=1):
        second.process([message(chunk, f"c{number}")])
        second.commit()
    second.publish(force=True)
    assert len(lake_events(ws)) == 600
    assert assert_live_matches_batch(ws) > 10
    assert_live_matches_batch(ws, by=("gender",))  # people beyond the register count as unknown, as in batch
    assert_live_matches_batch(ws, by=("age_band",), level="city")
    second.close()


def test_a_source_keeps_its_bin_and_lateness(ws):
    live = engine(ws)
    live.process([message([(0, "08:10", "a1")])])
    live.commit()
    live.close()
    with pytest.raises(PopflowError, match="same values"):
        engine(ws, bin=1800)


def test_snapshot_selects_bins_levels_and_breakdowns(ws):
    live = engine(ws)
    live.process([message([(p, "08:10", "a1") for p in range(4)] + [(p, "09:10", "b1") for p in range(4, 7)])])
    live.publish(force=True)
    view = LiveView(ws)
    assert cells(ws, bin="latest") == {("09:00", "B"): 3}
    assert cells(ws, bin="2026-01-20T08:00:00") == {("08:00", "A"): 4}
    assert cells(ws, level="city") == {("08:00", "X"): 4, ("09:00", "X"): 3}
    assert list(view.snapshot(by="gender").cells.column_names) == ["time", "area_id", "gender", "people"]
    assert view.snapshot().to_json()["cells"][0]["time"] == "2026-01-20T08:00:00+08:00"
    with pytest.raises(PopflowError, match="unknown area level"):
        view.snapshot(level="galaxy")
    with pytest.raises(PopflowError):
        view.snapshot(by="subscriber_id")  # no person-level selection
    live.close()
