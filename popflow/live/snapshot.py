"""Publishing the live view: published cells plus freshness, at most every ``refresh`` seconds.

The freshness record names the mechanism the cells were published under
(``privacy``: mode, k and, in ckm, the perturbation's parameters), as a
release's manifest does.

Closed bins never change, so their published cells (and the live alerts,
``popflow.live.alerts``) are computed once when bins close; each refresh
only rolls up and suppresses the open bins.
"""

from __future__ import annotations

import os
import time

import pyarrow as pa

from popflow.live.alerts import LiveAlerts
from popflow.live.clock import local_iso, local_now, utc_now_iso
from popflow.live.presence import cells_schema


class SnapshotWriter:
    """Writes ``live/snapshot.parquet`` and ``live/status.json`` for an engine."""

    def __init__(self, engine, publisher):
        self.engine, self.publisher = engine, publisher
        self.dirty = self.closed_changed = True
        self.last = 0.0
        self.closed_cells: pa.Table | None = None
        self.closed_suppressed = 0
        self.committed_at: str | None = None
        self.alerts = LiveAlerts(engine, publisher)

    def publish(self, force: bool = False) -> bool:
        if not force and (not self.dirty or time.monotonic() - self.last < self.engine.options.refresh):
            return False
        engine = self.engine
        with engine.watch.stage("publish"):
            if self.closed_changed or self.closed_cells is None:
                closed = [engine.closed[s] for s in sorted(engine.closed)]
                counts = pa.concat_tables(closed) if closed else cells_schema().empty_table()
                self.closed_cells, self.closed_suppressed = self.publisher.publish(counts)
                self.closed_changed = False
                with engine.watch.stage("alerts"):
                    self.alerts.refresh()
            open_cells, open_suppressed = self.publisher.publish(engine.presence.open_cells())
            freshness = self.freshness(self.closed_suppressed + open_suppressed)
            engine.folder.write_snapshot(pa.concat_tables([self.closed_cells, open_cells]), freshness)
            engine.folder.write_status(self.status(freshness))
        self.dirty, self.last = False, time.monotonic()
        return True

    def freshness(self, suppressed: int) -> dict:
        """How current the published cells are, and what they cover."""
        engine, tz = self.engine, self.engine.ws.settings.timezone
        bins = [{"time": local_iso(s, tz), "final": True} for s in sorted(engine.closed)]
        bins += [{"time": local_iso(s, tz), "final": False} for s in sorted(engine.presence.open)]
        return {
            "published_at": utc_now_iso(), "source": engine.source, "timezone": tz,
            "bin_seconds": engine.options.bin, "lateness_seconds": engine.options.lateness,
            "k": engine.mechanism.k, "privacy": engine.mechanism.describe(),
            "newest_event": local_iso(engine.newest, tz),
            "high_water": local_iso(engine.high_water, tz),
            "lag_seconds": None if engine.newest is None else local_now(tz) - engine.newest,
            "committed_at": self.committed_at, "bins": bins, "levels": self.publisher.levels,
            "events": engine.counters, "suppressed_cells": suppressed, "alerts": self.alerts.found,
        }

    def status(self, freshness: dict) -> dict:
        """Freshness plus the stream's position and where its time went."""
        engine = self.engine
        return {**freshness, "pid": os.getpid(), "position": engine.position,
                "pending_rows": engine.batch.rows, "redelivered_messages": engine.redelivered,
                "seconds_by_stage": engine.watch.report()}
