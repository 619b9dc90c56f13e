"""A micro-batch: what a stream checked since its last commit, committed as one lake batch.

Checked rows wait in DuckDB (pseudonymised; raw identifiers never leave the
Arrow batch they arrived in). ``commit`` writes them with the batch ingest's
``BatchWriter`` into a staged batch and publishes it with the lake's atomic
rename, the ``live`` record (position, high-water mark, closed bins) inside.
"""

from __future__ import annotations

import datetime
import time
import uuid

import duckdb

from popflow.ingest.events import SOURCE as EVENTS
from popflow.ingest.pipeline import BatchWriter
from popflow.ingest.quality import QualityTally
from popflow.ingest.readers import MalformedRows
from popflow.lake import BATCH_FILE, Lake, StagedBatch

PENDING = "live_pending"


class MicroBatch:
    """Rows, unreadable inputs and positions gathered since the last commit."""

    def __init__(self, con, lake: Lake):
        self.con, self.lake = con, lake
        self.created = False
        self.reset()

    def reset(self) -> None:
        self.origins: list[str] = []
        self.malformed: dict[int, list[int | None]] = {}
        self.inputs: list[dict] = []
        self.rows = self.late = 0
        self.touched = False  # a position moved, even without rows
        self.started = time.monotonic()
        if self.created:
            self.con.execute(f"DELETE FROM {PENDING}").fetchall()

    def origin(self, label: str) -> int:
        """Index of a message or file label (the ``file`` of quarantined rows)."""
        self.origins.append(label)
        self.touched = True
        return len(self.origins) - 1

    def add(self, checked: str, lines: str) -> None:
        """Keep checked rows, each with its origin and its line in that origin."""
        rows = (f"SELECT c.* REPLACE (m.real_line AS line), m.origin FROM {checked} c "
                f"JOIN {lines} m ON m.chunk_line = c.line")
        if not self.created:
            self.con.execute(f"CREATE OR REPLACE TABLE {PENDING} AS {rows} LIMIT 0")
            self.created = True
        self.rows += self.con.execute(f"INSERT INTO {PENDING} {rows}").fetchall()[0][0]

    def add_malformed(self, origin: int, lines: list[int | None]) -> None:
        self.malformed.setdefault(origin, []).extend(lines)

    @property
    def age(self) -> float:
        return time.monotonic() - self.started

    def newest(self) -> int | None:
        """Local time of the newest accepted event waiting here."""
        if not self.rows:
            return None
        return self.con.execute(f"SELECT max(t) FROM {PENDING} WHERE reason IS NULL").fetchall()[0][0]

    def commit(self, batch_id: str, live: dict) -> dict:
        """Write everything as one lake batch with its ``live`` record; returns the quality report.

        ``popflow ingest`` clears ``.staging/`` when it starts; if that removes this
        batch before its rename, the batch is written again (once).
        """
        report: dict = {}
        for attempt in range(2):
            staged = StagedBatch(self.lake, EVENTS.name, batch_id)
            try:
                report = self._write(staged)
                staged.commit({
                    "id": staged.id, "source": EVENTS.name,
                    "committed_at": datetime.datetime.now(datetime.UTC).isoformat(),
                    "inputs": self.inputs, "quality": report, "live": live,
                })
                return report
            except (FileNotFoundError, duckdb.IOException):
                if (self.lake.root / EVENTS.name / f"batch={batch_id}" / BATCH_FILE).exists():
                    return report  # committed; only the catalogue rewrite after it failed
                staged.abandon()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _write(self, staged: StagedBatch) -> dict:
        cursor = self.con.cursor()  # fresh temporary tables for the writer and the tally
        try:
            writer, tally = BatchWriter(cursor, EVENTS, staged), QualityTally(EVENTS.name, [])
            if self.rows:
                self._write_rows(cursor, writer, tally)
            for origin, lines in self.malformed.items():
                writer.write_malformed(MalformedRows([(line, "") for line in lines]), self.origins[origin], tally)
            return tally.report(cursor)
        finally:
            cursor.close()

    def _write_rows(self, cursor, writer: BatchWriter, tally: QualityTally) -> None:
        cursor.execute(f"CREATE TEMP VIEW live_good AS SELECT * EXCLUDE (origin) FROM {PENDING} "
                       "WHERE reason IS NULL")
        writer.write("live_good", "live", tally)
        bad = cursor.execute(f"SELECT DISTINCT origin FROM {PENDING} WHERE reason IS NOT NULL ORDER BY 1").fetchall()
        for (origin,) in bad:
            cursor.execute(f"CREATE OR REPLACE TEMP VIEW live_bad AS SELECT * EXCLUDE (origin) FROM {PENDING} "
                           f"WHERE origin = {origin} AND reason IS NOT NULL")
            writer.write("live_bad", self.origins[origin], tally)


def new_batch_id() -> str:
    return uuid.uuid4().hex[:16]
