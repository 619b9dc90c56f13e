"""Files of live mode under ``<workspace>/live/``.

- ``stream.lock`` — held (flock) by the running stream: one stream per workspace;
- ``cubes/<batch id>.parquet`` — final counts of the bins a committed micro-batch
  closed (aggregates per bin, finest area and attributes, with the sum of the
  cell's ckm record keys; internal, never served: they include counts below k).
  A cube whose batch never committed is removed
  at the next start;
- ``in-flight`` — the id of the micro-batch being staged (its leftover is removed
  after a crash; ``.staging/`` is shared with ``popflow ingest``);
- ``snapshot.parquet`` — the latest published cells (k-suppressed, in ckm also
  perturbed), with the freshness record in its metadata, replaced atomically;
- ``status.json`` — the stream's counters and where time goes.

Nothing here holds a person identifier or a pseudonym.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from popflow.errors import PopflowError
from popflow.lake import STAGING_DIR

LIVE_DIR = "live"
SNAPSHOT_FILE = "snapshot.parquet"
STATUS_FILE = "status.json"
METADATA_KEY = b"popflow.live"
IN_FLIGHT_FILE = "in-flight"


class LiveFolder:
    """Paths and atomic writes of a workspace's live folder."""

    def __init__(self, workspace: Path):
        self.workspace = Path(workspace)
        self.root = self.workspace / LIVE_DIR
        self.cubes = self.root / "cubes"
        self.snapshot = self.root / SNAPSHOT_FILE
        self.status = self.root / STATUS_FILE
        self._lock = None

    def make(self) -> None:
        self.cubes.mkdir(parents=True, exist_ok=True)

    def acquire(self) -> None:
        """Take the stream lock, or refuse when another stream runs on this workspace."""
        self.make()
        handle = (self.root / "stream.lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise PopflowError(f"another live stream is running on {self.workspace}") from None
        self._lock = handle

    def release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def cube_name(self, batch_id: str) -> str:
        """The cube of a batch, relative to the workspace (as stored in the batch record)."""
        return f"{LIVE_DIR}/cubes/{batch_id}.parquet"

    def write_cube(self, batch_id: str, table: pa.Table) -> str:
        name = self.cube_name(batch_id)
        write_parquet(self.workspace / name, table)
        return name

    def read_cube(self, name: str) -> pa.Table:
        return pq.read_table(self.workspace / name)

    def remove_uncommitted_cubes(self, committed: set[str]) -> None:
        """Delete cubes of batches that never committed (a crash between the two writes)."""
        for path in self.cubes.glob("*.parquet"):
            if f"{LIVE_DIR}/cubes/{path.name}" not in committed:
                path.unlink(missing_ok=True)

    def mark_in_flight(self, batch_id: str) -> None:
        """Remember the batch being staged, so a crash's leftover can be removed (and only ours)."""
        write_text(self.root / IN_FLIGHT_FILE, batch_id)

    def remove_in_flight(self) -> None:
        """Remove the staged folder of a commit a crash interrupted."""
        marker = self.root / IN_FLIGHT_FILE
        if marker.exists():
            batch_id = marker.read_text().strip()
            if batch_id.isalnum():
                shutil.rmtree(self.workspace / STAGING_DIR / f"events-{batch_id}", ignore_errors=True)
            marker.unlink()

    def write_snapshot(self, table: pa.Table, freshness: dict) -> None:
        metadata = {METADATA_KEY: json.dumps(freshness, default=str).encode()}
        write_parquet(self.snapshot, table.replace_schema_metadata(metadata), durable=False)

    def write_status(self, status: dict) -> None:
        write_text(self.status, json.dumps(status, indent=2, default=str))


def write_parquet(path: Path, table: pa.Table, durable: bool = True) -> None:
    """Write then rename, so a reader sees the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    if durable:
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def read_snapshot(path: Path) -> tuple[pa.Table, dict]:
    """The published cells and the freshness record of a snapshot file."""
    table = pq.read_table(path)
    return table.replace_schema_metadata(None), _freshness(table.schema)


def read_freshness(path: Path) -> dict:
    """The freshness record of a snapshot file (its metadata only)."""
    return _freshness(pq.read_schema(path))


def _freshness(schema: pa.Schema) -> dict:
    return json.loads((schema.metadata or {}).get(METADATA_KEY, b"{}"))
