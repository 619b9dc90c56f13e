"""Reading the live view from any process: ``LiveView(workspace).snapshot(...)``.

The running stream replaces ``<workspace>/live/snapshot.parquet`` atomically
(at most every second, when something changed); this module only reads it,
so the HTTP server, the dashboard or a notebook see the same published cells:
people per bin × area (× breakdowns), published under the workspace's
default privacy mode (k or ckm) like any release.

For server-sent events::

    view = LiveView(workspace)
    for snap in view.follow(by=("gender",), level="city"):   # blocks; yields on every new snapshot
        send(json.dumps(snap.to_json()))

``follow`` polls the file's modification time (cheap); run it in a thread
from async code, or call ``version()`` / ``snapshot()`` yourself.
"""

from __future__ import annotations

import datetime
import threading
import time
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from popflow.columns import BREAKDOWNS
from popflow.errors import PopflowError
from popflow.indicators.params import parse_breakdowns
from popflow.live.publish import FINEST
from popflow.live.store import LiveFolder, read_freshness, read_snapshot
from popflow.outputs import iso_text, zone_times
from popflow.workspace import Workspace


@dataclass(frozen=True)
class LiveSnapshot:
    """Published cells of the live view, and how fresh they are.

    ``cells``: ``time`` (bin start, zoned timestamp), ``area_id``, the requested
    breakdowns, ``people``. ``freshness``: ``published_at`` (UTC),
    ``newest_event`` and ``high_water`` (local), ``lag_seconds``, ``bins``
    (each with ``final``: closed for good), ``events`` (accepted, quarantined,
    late), ``suppressed_cells``, ``k``, ``privacy`` (the mechanism: ``mode``,
    ``k``, …, as in a release's manifest), the source, and ``alerts``: the areas
    of the level asked for whose present population in a closed bin breaks its
    usual level for that hour of the week (``time``, ``area_id``, ``value`` or,
    below k, ``below``, ``expected``, ``score``, ``direction``).
    """

    cells: pa.Table
    freshness: dict
    by: tuple[str, ...] = ()
    level: str | None = None

    def to_pandas(self):
        return self.cells.to_pandas()

    def to_json(self) -> dict:
        """A JSON-ready dict (times as ISO 8601 with the local offset)."""
        return {"freshness": self.freshness, "by": list(self.by), "level": self.level,
                "cells": iso_text(self.cells).to_pylist()}


class LiveView:
    """The latest published live snapshot of a workspace."""

    def __init__(self, workspace: Workspace | str | Path | None = None):
        ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
        self.folder, self.timezone = LiveFolder(ws.path), ws.settings.timezone

    def version(self) -> int | None:
        """Changes whenever a new snapshot is published (None before the first one)."""
        try:
            return self.folder.snapshot.stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def privacy_mode(self) -> str | None:
        """The privacy mode of the published snapshot (None before the first one)."""
        if self.version() is None:
            return None
        return snapshot_privacy(read_freshness(self.folder.snapshot))

    def snapshot(self, bin=None, by: tuple[str, ...] | str = (), level: str | None = None) -> LiveSnapshot:
        """Published cells: every retained bin (``bin=None``), the newest (``"latest"``) or one bin start.

        ``bin`` may be a datetime or ISO 8601 text (without an offset: local time).
        ``by`` names breakdowns (``gender``, ``age_band``, ``origin_region``);
        ``level`` an area level (default: the finest areas).
        """
        by = parse_breakdowns(by)
        if self.version() is None:
            return LiveSnapshot(zone_times(_empty(by), self.timezone), {"published_at": None}, by, level)
        table, freshness = read_snapshot(self.folder.snapshot)
        key = _level_key(level, freshness.get("levels", {}))
        mask = pc.and_(pc.equal(table["level"], key), pc.equal(table["breakdowns"], _label(by)))
        table = table.filter(mask)
        if bin is not None:
            table = table.filter(pc.equal(table["time"], self._bin_start(table, bin)))
        cells = table.select(["time", "area_id", *by, "people"]).sort_by([("time", "ascending"),
                                                                           ("area_id", "ascending")])
        alerts = [a for a in freshness.get("alerts", []) if a["level"] == key]
        return LiveSnapshot(zone_times(cells, self.timezone), {**freshness, "alerts": alerts}, by, level)

    def wait(self, after: int | None, timeout: float = 30.0, poll: float = 0.2) -> int | None:
        """Block until the version differs from ``after`` (or ``timeout``); returns the version."""
        deadline = time.monotonic() + timeout
        while (current := self.version()) == after and time.monotonic() < deadline:
            time.sleep(poll)
        return current

    def follow(self, bin=None, by=(), level=None, poll: float = 0.25,
               stop: threading.Event | None = None) -> Iterator[LiveSnapshot]:
        """Yield the current snapshot, then each new one as it is published."""
        seen = None
        while stop is None or not stop.is_set():
            current = self.wait(seen, timeout=poll * 20, poll=poll)
            if current != seen and current is not None:
                seen = current
                yield self.snapshot(bin, by, level)

    def _bin_start(self, table: pa.Table, bin) -> int:
        if bin == "latest":
            return pc.max(table["time"]).as_py() if table.num_rows else -1
        moment = datetime.datetime.fromisoformat(bin) if isinstance(bin, str) else bin
        if moment.tzinfo is not None:
            moment = moment.astimezone(zoneinfo.ZoneInfo(self.timezone)).replace(tzinfo=None)
        return int((moment - datetime.datetime(1970, 1, 1)).total_seconds())


def snapshot_privacy(freshness: dict) -> str:
    """The privacy mode a snapshot's cells were published in (k for snapshots that do not say)."""
    return (freshness.get("privacy") or {}).get("mode", "k")


def _level_key(level: str | None, levels: dict) -> str:
    if level is None or level == levels.get("finest"):
        return FINEST
    if level not in levels.get("names", []):
        raise PopflowError(f"unknown area level '{level}' (levels: {', '.join(levels.get('names', []))})")
    return level


def _label(by: tuple[str, ...]) -> str:
    """The ``breakdowns`` value of a breakdown set (names in BREAKDOWNS order)."""
    return ",".join(b for b in BREAKDOWNS if b in by)


def _empty(by: tuple[str, ...]) -> pa.Table:
    fields = [("time", pa.int64()), ("area_id", pa.string()), *((b, pa.string()) for b in by),
              ("people", pa.int64())]
    return pa.schema(fields).empty_table()
