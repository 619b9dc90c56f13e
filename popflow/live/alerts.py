"""Live alerts: the areas whose present population breaks its usual level for that hour of the week.

The history is what the lake remembers of the stream: the final counts of
its closed bins (the cubes its committed micro-batches reference), summed
per bin and area at every level and published by the snapshot's mechanism
(k-suppressed, and in ckm perturbed) exactly as the snapshot is, so a cell
below k is a censored value and nothing unpublished is read. The alerts indicator's definition
(``popflow.indicators.alerts``) scores these series, holidays from the lake
included; the alerts of the closed bins the snapshot shows are published
with it, each with its area's ``level`` (the finest areas: ``""``), so a
reader sees only the alerts of the level it may read.
"""

from __future__ import annotations

import datetime

import pyarrow as pa

from popflow.indicators.alerts import derive
from popflow.indicators.base import Contribution
from popflow.indicators.params import Alerts
from popflow.live.clock import local_iso
from popflow.live.history import DAY, History
from popflow.live.presence import RECORD_KEYS
from popflow.live.publish import key_sum_sql
from popflow.outputs import zone_times
from popflow.sql import literals

CONTRIBUTION = Contribution("present-population", "", ("time", "level", "area_id"))


class LiveAlerts:
    """Alerts of a stream's closed bins, recomputed whenever bins close."""

    def __init__(self, engine, publisher):
        self.engine, self.publisher = engine, publisher
        self.found: list[dict] = []

    def refresh(self) -> list[dict]:
        """Score the history again; the alerts of the retained closed bins."""
        engine = self.engine
        history = self.history()
        shown = {local_iso(slot, engine.ws.settings.timezone) for slot in engine.closed}
        if not history.num_rows or not shown:
            self.found = []
            return self.found
        alerts = derive(_Release(history, engine), Alerts(), self.holidays())["alerts"]
        levels = dict(zip(history["area_id"].to_pylist(), history["level"].to_pylist(), strict=True))
        self.found = [{"level": levels[a["key"]], "area_id": a["key"], **_fields(a)}
                      for a in alerts.to_pylist() if a["time"] in shown]
        return self.found

    def history(self) -> pa.Table:
        """Published people per closed bin and area at every level (published like the snapshot)."""
        engine = self.engine
        cubes = sorted(History.load(engine.ws.lake, engine.source).committed_cubes())
        if not cubes:
            return pa.table({"time": pa.array([], pa.int64()), "level": pa.array([], pa.string()),
                             "area_id": pa.array([], pa.string()), "people": pa.array([], pa.int64())})
        listing = literals(engine.ws.path / c for c in cubes)
        read = f"read_parquet([{listing}], union_by_name = true)"
        keyed = RECORD_KEYS in engine.con.sql(f"SELECT * FROM {read}").columns  # cubes before record keys: none
        engine.con.execute(
            "CREATE OR REPLACE TEMP TABLE live_history AS SELECT c.time, l.level, l.target_id AS area_id, "
            f"sum(c.people)::BIGINT AS people, {key_sum_sql() if keyed else 'NULL::BIGINT'} AS {RECORD_KEYS} "
            f"FROM {read} c JOIN live_levels l USING (area_id) GROUP BY c.time, l.level, l.target_id")
        published, _ = self.publisher.disclose(CONTRIBUTION, "live_history")
        return published.sort_by([("time", "ascending"), ("level", "ascending"), ("area_id", "ascending")])

    def holidays(self):
        """The ingested public holidays (date, name), or None."""
        if not self.engine.ws.lake.batches("holidays"):
            return None
        return self.engine.ws.connect().sql("SELECT date, name FROM holidays").df()


class _Release:
    """The history as a release of present population whose last bin is final (closed bins are)."""

    def __init__(self, history: pa.Table, engine):
        tz, times = engine.ws.settings.timezone, history["time"].to_pylist()
        self.table = zone_times(history.select(["time", "area_id", "people"]), tz)
        self.manifest = {"indicator": "present-population", "privacy": engine.mechanism.describe(),
                         "parameters": {"bin": engine.options.bin}, "last_bin_final": True,
                         "window": {"from": _date(min(times)), "to": _date(max(times))}}


def _date(local_epoch: int) -> str:
    """The local date of a local epoch second."""
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=local_epoch // DAY)).isoformat()


def _fields(alert: dict) -> dict:
    return {name: alert[name] for name in ("time", "value", "below", "expected", "score", "direction")}
