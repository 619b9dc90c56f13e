"""The pseudonymised Parquet lake: batches committed atomically, listed by source.

Layout (every dataset declared here once)::

    lake/<source>/batch=<id>/data/[date=YYYY-MM-DD/]part-*.parquet
    lake/<source>/batch=<id>/quarantine/part-*.parquet
    lake/<source>/batch=<id>/batch.json      (inputs, fingerprints, quality report)

A batch is written under ``.staging/`` and committed by one atomic directory
rename into ``lake/``; a batch directory without ``batch.json`` or left in
``.staging/`` by a crash is never read and is removed by the next ingest.
One ingest at a time holds the workspace's ingest lock (``ingest_lock``) from
reading the lake's state to its commit; another waits for it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from popflow.atomic_files import write_atomically
from popflow.errors import PopflowError

LAKE_DIR = "lake"
STAGING_DIR = ".staging"
BATCH_FILE = "batch.json"
CATALOGUE_FILE = "catalogue.json"
DATA = "data"
QUARANTINE = "quarantine"

RECENT_NS = 2 * 10**9  # a source folder modified this recently is listed again on the next call
INGEST_LOCK_FILE = ".ingest.lock"
INGEST_WAIT = 600.0  # seconds an ingest waits for another one into the same workspace to finish


@contextmanager
def ingest_lock(workspace: Path, wait: float = INGEST_WAIT) -> Iterator[None]:
    """Hold the workspace's ingest lock (``flock`` on ``.ingest.lock``), waiting up to ``wait`` seconds.

    An ingest reads which files and keys the lake already holds, clears
    ``.staging/`` and commits; two at once would each miss the other's rows
    (and remove each other's staged batch). The lock is released when the
    process ends, however it ends.
    """
    with (workspace / INGEST_LOCK_FILE).open("a") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise PopflowError(f"another ingest into {workspace} is still running after {wait:.0f} s of "
                                       "waiting; run this one again when it has finished") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Lake:
    """Committed batches of a workspace's lake."""

    def __init__(self, workspace: Path):
        self.workspace = workspace
        self.root = workspace / LAKE_DIR
        # Committed batches never change, so their records and file lists are read once per Lake; a source
        # folder is listed again only when its modification time says a batch came or went.
        self._records: dict[str, dict[Path, dict]] = {}
        self._listed: dict[str, int | None] = {}
        self._file_lists: dict[Path, list[Path]] = {}

    def batches(self, source: str | None = None) -> list[dict]:
        """Committed batch records, oldest first, optionally of one source."""
        if source:
            sources = [source]
        else:
            sources = sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []
        records = [dict(r) for name in sources for r in self._committed(name).values()]
        return sorted(records, key=lambda r: (r["committed_at"], r["id"]))

    def _committed(self, source: str) -> dict[Path, dict]:
        """Batch folder → record, for a source's committed batches."""
        folder = self.root / source
        try:
            stamp = folder.stat().st_mtime_ns  # taken before listing: a batch arriving meanwhile changes it
        except FileNotFoundError:
            return {}
        if self._listed.get(source) != stamp:
            known = self._records.get(source, {})
            self._records[source] = {path.parent: known.get(path.parent) or self._read(path)
                                     for path in sorted(folder.glob(f"batch=*/{BATCH_FILE}"))}
            # A folder changed within the file system's timestamp resolution may change again unseen.
            self._listed[source] = stamp if time.time_ns() - stamp > RECENT_NS else None
        return self._records[source]

    def _read(self, path: Path) -> dict:
        record = json.loads(path.read_text())
        record["path"] = str(path.parent.relative_to(self.workspace))
        return record

    def data_files(self, source: str) -> list[Path]:
        """Parquet files of a source's committed data."""
        return self._files(source, DATA)

    def quarantine_files(self, source: str) -> list[Path]:
        """Parquet files of a source's quarantined rows."""
        return self._files(source, QUARANTINE)

    def _files(self, source: str, kind: str) -> list[Path]:
        files = []
        for batch in self.batches(source):
            folder = self.workspace / batch["path"] / kind
            if folder not in self._file_lists:
                self._file_lists[folder] = sorted(folder.rglob("*.parquet"))
            files.extend(self._file_lists[folder])
        return files

    def fingerprints(self, source: str) -> set[str]:
        """Content fingerprints of every input file already committed for a source."""
        return {i["sha256"] for b in self.batches(source) for i in b["inputs"]}

    def new_batch(self, source: str) -> StagedBatch:
        """Start a batch under ``.staging/``; nothing is visible until commit."""
        self.collect_garbage()
        return StagedBatch(self, source, uuid.uuid4().hex[:16])

    def collect_garbage(self) -> None:
        """Remove what crashed ingests left: staging folders and uncommitted batches."""
        shutil.rmtree(self.workspace / STAGING_DIR, ignore_errors=True)
        for folder in self.root.glob("*/batch=*"):
            if not (folder / BATCH_FILE).exists():
                shutil.rmtree(folder, ignore_errors=True)

    def write_catalogue(self) -> None:
        """Rewrite ``catalogue.json``, a readable index of the committed batches."""
        index = [
            {k: b[k] for k in ("id", "source", "committed_at", "inputs", "path")}
            | {"rows": b["quality"]["rows"]}
            for b in self.batches()
        ]
        write_atomically(self.workspace / CATALOGUE_FILE, json.dumps(index, indent=2))


class BatchFolders:
    """The data and quarantine folders of a batch, or of one part of a batch, being written."""

    def __init__(self, folder: Path):
        self.folder = folder
        (folder / DATA).mkdir(parents=True)
        (folder / QUARANTINE).mkdir()

    @property
    def data_dir(self) -> Path:
        return self.folder / DATA

    @property
    def quarantine_dir(self) -> Path:
        return self.folder / QUARANTINE


class StagedBatch(BatchFolders):
    """A batch being written; ``commit`` publishes it with one rename."""

    def __init__(self, lake: Lake, source: str, batch_id: str):
        self.lake, self.source, self.id = lake, source, batch_id
        super().__init__(lake.workspace / STAGING_DIR / f"{source}-{batch_id}")

    def adopt(self, part: Path, prefix: str) -> None:
        """Move the Parquet files of a part written in ``part`` (data and quarantine) into the batch.

        Files keep their place under ``date=`` folders and get ``prefix`` so that parts never collide.
        """
        for kind in (DATA, QUARANTINE):
            for path in sorted((part / kind).rglob("*.parquet")):
                target = self.folder / kind / path.parent.relative_to(part / kind) / f"{prefix}-{path.name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(path, target)
        shutil.rmtree(part)

    def commit(self, record: dict) -> Path:
        """Write the batch record, then move the batch into the lake atomically."""
        (self.folder / BATCH_FILE).write_text(json.dumps(record, indent=2, default=str))
        _fsync_tree(self.folder)
        target = self.lake.root / self.source / f"batch={self.id}"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(self.folder, target)
        _fsync_dir(target.parent)
        self.lake.write_catalogue()
        return target

    def abandon(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
