"""Running a live stream: lock the workspace, build the engine, drive it from its source.

``run_stream`` blocks until ``stop`` is set, SIGTERM/SIGINT arrives (when run
in the main thread) or, with ``idle_exit``, the source stays idle; it then
commits what is pending and publishes a last snapshot. SIGKILL is fine too:
see ``popflow.live.engine`` for why nothing is lost or double-counted.
"""

from __future__ import annotations

import getpass
import signal
import threading
from pathlib import Path

from popflow.live.directory import run_directory
from popflow.live.engine import LiveEngine
from popflow.live.options import LiveOptions, SourceAddress
from popflow.live.store import LiveFolder
from popflow.workspace import Workspace


def run_stream(workspace: Workspace | str | Path | None, source: str | SourceAddress,
               options: LiveOptions | None = None, stop: threading.Event | None = None,
               who: str | None = None) -> dict:
    """Stream events from ``dir:PATH`` or ``nats://HOST:PORT/SUBJECT`` into the workspace; returns the counters."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    address = source if isinstance(source, SourceAddress) else SourceAddress.parse(source)
    options, stop = options or LiveOptions(), stop or threading.Event()
    who = who or f"stream:{getpass.getuser()}"
    folder = LiveFolder(ws.path)
    folder.acquire()
    engines: list[LiveEngine] = []

    def make_engine(source_name: str) -> LiveEngine:
        engine = LiveEngine(ws, options, source_name, who)
        engine.audit_start()
        engines.append(engine)
        return engine

    try:
        with _stopping_on_signals(stop):
            if address.kind == "dir":
                run_directory(make_engine(f"dir:{address.path.resolve()}"), address.path, options, stop)
            else:
                from popflow.live.nats_source import run_nats

                run_nats(make_engine, address, options, stop)
        return dict(engines[0].counters) if engines else {}
    finally:
        for engine in engines:
            engine.close()
        folder.release()


class _stopping_on_signals:
    """Turn SIGTERM and SIGINT into a graceful stop while the stream runs in the main thread."""

    def __init__(self, stop: threading.Event):
        self.stop, self.previous = stop, {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self.previous[sig] = signal.signal(sig, lambda *_: self.stop.set())
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        return False
