"""The live engine: one source's events → validation → lake micro-batches → open bins → snapshot.

Exactly-once effect. The lake is the only durable truth: a micro-batch's rows,
its quarantine, the source position and the high-water mark are committed in
one atomic rename (``popflow.live.history``). Everything in memory is derived
from it: on start the open bins are rebuilt from this source's committed rows
and the closed bins from the cubes its batches reference. Whatever the engine
saw after the last commit is delivered again by the source, so a kill at any
moment loses nothing and counts nothing twice.

Lateness. An event is *late* when its bin was already closed by the
high-water mark of the last commit (bin start + bin + lateness ≤ mark). Late
events are written to the lake like any other (batch indicators see them)
and counted in the batch record's ``late_events``; they do not change the
closed bin. Because the mark only moves at commits, a replay after a crash
classifies every event as the lost run would have.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from popflow import audit
from popflow.disclosure.request import _derived_salt
from popflow.errors import PopflowError
from popflow.geography import finest_areas
from popflow.lake_views import create_from_lake
from popflow.live.attributes import Attributes
from popflow.live.clock import Stopwatch, local_iso, utc_now_iso
from popflow.live.history import DAY, History
from popflow.live.microbatch import MicroBatch, new_batch_id
from popflow.live.options import LiveOptions
from popflow.live.presence import PresenceState, with_record_keys
from popflow.live.publish import Publisher, live_mechanism
from popflow.live.snapshot import SnapshotWriter
from popflow.live.store import LiveFolder
from popflow.live.validation import LINES, Validator
from popflow.live.wire import Decoded
from popflow.sql import literals
from popflow.workspace import AUDIT_FILE, Workspace


class LiveEngine:
    """Counts one source's events; the caller feeds deliveries, commits when due and acks after."""

    def __init__(self, ws: Workspace, options: LiveOptions, source: str, who: str = "stream"):
        self.ws, self.options, self.source, self.who = ws, options, source, who
        self.mechanism = live_mechanism(ws)  # first: a workspace the stream cannot publish for is refused at once
        self.folder = LiveFolder(ws.path)
        self.folder.make()
        self.history = History.load(ws.lake, source)
        self.history.check(options.bin, options.lateness)
        self.high_water = self.newest = self.history.high_water
        self.position = dict(self.history.position)
        self.counters = self.history.totals()
        self.redelivered = 0  # messages recognised as already processed (NATS redeliveries, duplicates)
        self.watch = Stopwatch()
        self.con = duckdb.connect()
        self.validator = Validator(ws, self.con)
        area_rows = ws.area_rows()
        if not area_rows or not ws.lake.batches("cells"):
            raise PopflowError("ingest areas and cells before streaming events")
        self.presence = PresenceState(options.bin, options.lateness,
                                      [a["area_id"] for a in finest_areas(area_rows)], self._attributes(),
                                      _record_key_salt(ws))
        self.batch = MicroBatch(self.con, ws.lake)
        self.snapshots = SnapshotWriter(self, Publisher(self.con, area_rows, self.mechanism))
        self.closed: dict[int, pa.Table] = {}
        self._registers = self._register_batches()
        self._recover()
        self.folder.remove_uncommitted_cubes(self.history.committed_cubes())
        self.folder.remove_in_flight()

    def _attributes(self) -> Attributes:
        create_from_lake(self.con, "CREATE OR REPLACE TABLE subscribers", self.ws.lake, "subscribers")
        return Attributes.load(self.con)

    def _recover(self) -> None:
        """Rebuild the open bins from the lake and the retained closed bins from their cubes."""
        if self.high_water is None:
            return
        with self.watch.stage("recover"):
            floor = self.high_water - self.options.lateness - self.options.bin  # open bins start after this
            files = self.history.data_files(first_day=(floor + 1) // DAY)
            if files:
                listing = literals(files)
                self._count_open(f"SELECT person, t, area_id FROM read_parquet([{listing}]) "
                                 f"WHERE t - t % {self.options.bin} > {floor}")
            for name in self.history.cubes(since=self._retained_since()):
                cube = with_record_keys(self.folder.read_cube(name))
                for slot in np.unique(cube["time"].to_numpy()).tolist():
                    self.closed[slot] = cube.filter(pc.equal(cube["time"], slot))
            self._forget_old_bins()

    # -- deliveries ----------------------------------------------------------
    def process(self, parts: list[Decoded], position: dict | None = None, inputs: list[dict] = ()) -> None:
        """Validate, count and keep for the next commit every row of a delivery."""
        checks = []
        for part in parts:
            origin = self.batch.origin(part.origin)
            bad = ([None] if part.problem else []) + part.malformed
            if bad:
                self.batch.add_malformed(origin, bad)
                self.counters["quarantined"] += len(bad)
            checks.append((origin, part.table))
        with self.watch.stage("validate"):
            checked = self.validator.check(checks)
        if checked:
            with self.watch.stage("keep"):
                self.batch.add(checked, LINES)
            with self.watch.stage("count"):
                self._count_checked(checked)
        if position is not None:
            self.position = position
        self.batch.inputs.extend(inputs)
        self.batch.touched = True
        self.snapshots.dirty = True

    def _count_checked(self, checked: str) -> None:
        on_time = self._on_time_sql()
        accepted, quarantined, late = self.con.execute(
            f"SELECT count(*) FILTER (WHERE reason IS NULL), count(reason), "
            f"count(*) FILTER (WHERE reason IS NULL AND NOT ({on_time})) FROM {checked}").fetchall()[0]
        self.batch.late += late
        self.counters["accepted"] += accepted
        self.counters["quarantined"] += quarantined
        self.counters["late"] += late
        newest = self._count_open(f"SELECT person, t, area_id FROM {checked} WHERE reason IS NULL AND {on_time}")
        if newest is not None:
            self.newest = max(newest, self.newest or newest)

    def _on_time_sql(self) -> str:
        if self.high_water is None:
            return "TRUE"
        return f"(t - t % {self.options.bin}) + {self.options.bin + self.options.lateness} > {self.high_water}"

    def _count_open(self, events_sql: str) -> int | None:
        """Add events (person, t, area_id) of open bins to the presence state; returns the newest time."""
        delta = self.con.sql(
            f"SELECT t - t % {self.options.bin} AS slot, person, area_id, count(*)::BIGINT AS events, "
            f"max(t) AS latest FROM ({events_sql}) GROUP BY ALL").to_arrow_table()
        if not delta.num_rows:
            return None
        column = {name: delta[name].to_numpy() for name in ("slot", "person", "events", "latest")}
        self.presence.add(column["slot"], column["person"], delta["area_id"].combine_chunks(),
                          column["events"], column["latest"])
        return int(column["latest"].max())

    # -- commits -------------------------------------------------------------
    def due(self) -> bool:
        """Whether the pending micro-batch should be committed now."""
        return self.batch.touched and (self.batch.age >= self.options.checkpoint_every
                                       or self.batch.rows >= self.options.checkpoint_events)

    def commit(self) -> bool:
        """Commit the pending micro-batch (rows, position, closed bins) atomically; False when empty."""
        if not self.batch.touched:
            return False
        with self.watch.stage("commit"):
            high_water = _latest(self.high_water, self.batch.newest())
            closing = self.presence.closable(high_water)
            closed = {slot: self.presence.close(slot) for slot in closing}
            batch_id = new_batch_id()
            cube = self.folder.write_cube(batch_id, pa.concat_tables(closed.values())) if closed else None
            if closed:
                self._audit_final_bins(batch_id, closing)
            self.folder.mark_in_flight(batch_id)
            self.batch.commit(batch_id, {
                "source": self.source, "position": self.position, "high_water": high_water,
                "bin": self.options.bin, "lateness": self.options.lateness, "late_events": self.batch.late,
                "closed": closing, "cube": cube})
            self.high_water = high_water
            self.closed.update(closed)
            self._forget_old_bins()
            self.batch.reset()
            self._reload_if_changed()
        self.snapshots.committed_at = utc_now_iso()
        self.snapshots.dirty = True
        self.snapshots.closed_changed = self.snapshots.closed_changed or bool(closed)
        return True

    def _retained_since(self) -> int:
        return (self.high_water or 0) - self.options.retain

    def _forget_old_bins(self) -> None:
        since = self._retained_since()
        for slot in [s for s in self.closed if s < since]:
            del self.closed[slot]
            self.snapshots.closed_changed = True

    def _audit_final_bins(self, batch_id: str, slots: list[int]) -> None:
        """One audit line per commit that finalises bins, written before the commit so none goes missing."""
        tz = self.ws.settings.timezone
        audit.append(self.ws.path / AUDIT_FILE, {
            "who": self.who, "release": f"live-{batch_id}", "indicator": "present-population",
            "parameters": {"live": True, "source": self.source, "bin": self.options.bin,
                           "lateness": self.options.lateness, "final_bins": [local_iso(s, tz) for s in slots]},
            "privacy": self.mechanism.describe(), "rows": {}, "outputs": [str(self.folder.snapshot)],
        })

    def audit_start(self) -> None:
        """The audit line of a stream start: what the live view publishes, under which mechanism."""
        audit.append(self.ws.path / AUDIT_FILE, {
            "who": self.who, "release": f"live-start-{new_batch_id()}", "indicator": "present-population",
            "parameters": {"live": True, "source": self.source, "bin": self.options.bin,
                           "lateness": self.options.lateness, "refresh": self.options.refresh},
            "privacy": self.mechanism.describe(), "rows": {}, "outputs": [str(self.folder.snapshot)],
        })

    def _register_batches(self) -> tuple[int, int]:
        root = self.ws.lake.root
        return tuple(len(list(root.glob(f"{s}/batch=*/batch.json"))) for s in ("subscribers", "cells"))

    def _reload_if_changed(self) -> None:
        """Pick up keys, subscribers or cells added while the stream runs."""
        self.validator.refresh_keys()
        registers = self._register_batches()
        if registers != self._registers:
            self._registers = registers
            self.validator.reload()
            self.presence.recode(self._attributes())

    # -- output --------------------------------------------------------------
    def publish(self, force: bool = False) -> bool:
        """Write the snapshot when something changed and ``refresh`` has passed (or when forced)."""
        return self.snapshots.publish(force)

    def close(self) -> None:
        self.con.close()


def _record_key_salt(ws: Workspace) -> str:
    """The salt of ckm record keys, derived as ckm releases derive it. Record keys are kept in every mode, so
    the cubes of bins closed under k still serve a stream restarted under ckm."""
    return _derived_salt(ws, "record-key")


def _latest(*times: int | None) -> int | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None
