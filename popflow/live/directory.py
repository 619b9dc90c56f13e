"""Landing-directory source: files of events, each processed once, in arrival order.

Write-then-rename. A producer writes each file under a name the stream
ignores — one starting with a dot or ending in ``.tmp`` — and renames it to
its final name when it is complete (a rename within one file system is
atomic). The stream only ever opens files with final names, so it never reads
a half-written file.

Arrival order is the order of the renames (the inode change time a rename
sets), then the name. A file is identified by the SHA-256 of its content, as
in ``popflow ingest``: its fingerprint is committed in the same lake batch as
its rows, so after a restart — or a later ``popflow ingest`` of the same
folder — it is skipped; the same content under a second name is skipped too.
Files are left in place; removing processed ones is up to the operator.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from popflow.errors import InputError
from popflow.ingest.events import SOURCE as EVENTS
from popflow.ingest.readers import MalformedRows, detect_format, fingerprint, read_batches
from popflow.live.engine import LiveEngine
from popflow.live.options import LiveOptions
from popflow.live.wire import COLUMNS, Decoded


def is_final_name(name: str) -> bool:
    """Whether a landing file is complete by the write-then-rename convention."""
    return not name.startswith(".") and not name.endswith(".tmp")


class LandingDirectory:
    """New complete files of a folder, oldest arrival first."""

    def __init__(self, path: Path, fmt: str | None, known: set[str]):
        if not path.is_dir():
            raise InputError(path, "no such directory")
        self.path, self.fmt, self.known = path, fmt, known
        self.handled: set[tuple] = set()  # (name, inode, size, mtime) of files already looked at

    def arrivals(self) -> list[Path]:
        found = []
        for entry in self.path.iterdir():
            if not is_final_name(entry.name):
                continue
            try:
                stat = entry.stat()
            except FileNotFoundError:
                continue
            identity = (entry.name, stat.st_ino, stat.st_size, stat.st_mtime_ns)
            if entry.is_file() and identity not in self.handled:
                found.append((stat.st_ctime_ns, entry.name, entry, identity))
        found.sort(key=lambda item: item[:2])
        self.handled.update(item[3] for item in found)
        return [item[2] for item in found]

    def read(self, path: Path) -> tuple[str, list[Decoded]] | None:
        """(fingerprint, decoded parts) of a new file; None when its content was already ingested."""
        try:
            digest = fingerprint(path)
        except FileNotFoundError:
            return None
        if digest in self.known:
            return None
        self.known.add(digest)
        return digest, _decode_file(path, self.fmt)


def _decode_file(path: Path, fmt: str | None) -> list[Decoded]:
    """The file's rows in parts, as the batch ingest reads them; an unreadable file is one problem part."""
    malformed = MalformedRows()
    try:
        tables = list(read_batches(path, detect_format(path, fmt), EVENTS.required, EVENTS.optional, malformed))
    except InputError as exc:
        return [Decoded(str(path), problem="unreadable file", column=exc.column)]
    parts = [Decoded(str(path), table=table.select([*COLUMNS, "line"])) for table in tables]
    lines = [number for number, _ in malformed.rows]
    if parts:
        parts[-1].malformed = lines
    elif lines:
        parts = [Decoded(str(path), malformed=lines)]
    return parts


def run_directory(engine: LiveEngine, path: Path, options: LiveOptions, stop: threading.Event) -> None:
    """Process files as they land until ``stop`` (or ``idle_exit``), committing and publishing as due."""
    landing = LandingDirectory(path, options.fmt, engine.ws.lake.fingerprints(EVENTS.name))
    idle_since = time.monotonic()
    while not stop.is_set():
        arrived = landing.arrivals()
        for file in arrived:
            if stop.is_set():
                break
            read = landing.read(file)
            if read is not None:
                engine.process(read[1], position={"last_file": file.name},
                               inputs=[{"file": str(file), "sha256": read[0]}])
            _commit_and_publish(engine)
        if arrived:
            idle_since = time.monotonic()
        _commit_and_publish(engine)
        if options.idle_exit is not None and time.monotonic() - idle_since >= options.idle_exit:
            break
        stop.wait(options.poll)
    engine.commit()
    engine.publish(force=True)


def _commit_and_publish(engine: LiveEngine) -> None:
    if engine.due():
        engine.commit()
    engine.publish()
