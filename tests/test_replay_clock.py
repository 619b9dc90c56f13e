"""A paced replay's clock: the events' "now" that the live view's lag is measured against in ``demo --live``."""

from __future__ import annotations

import datetime
import gzip
import time

import pytest

from popflow.live.replay import ReplayClock, replay


def test_replay_clock_runs_from_the_first_event_at_the_speedup(tmp_path):
    (tmp_path / "events").mkdir()
    with gzip.open(tmp_path / "events" / "events-2026-01-19.csv.gz", "wt") as out:
        out.write("subscriber_id,timestamp,cell_id\n+8613900000001,2026-01-19T08:00:00+08:00,c1\n"
                  "+8613900000002,2026-01-19T08:00:30+08:00,c1\n")
    clock = ReplayClock(speedup=60.0)
    assert clock.now() == pytest.approx(time.time(), abs=1) and clock.rate == 60.0  # not started: the wall clock
    replay(tmp_path, tmp_path / "landing", 60.0, clock=clock)
    first = datetime.datetime.fromisoformat("2026-01-19T08:00:00+08:00").timestamp()
    assert clock.first_event == first
    elapsed = time.monotonic() - clock.wall_start
    assert clock.now() == pytest.approx(first + 60.0 * elapsed, abs=2)
    assert len(list((tmp_path / "landing").glob("replay-*.csv"))) == 2  # the second event waited 0.5 s for its turn
