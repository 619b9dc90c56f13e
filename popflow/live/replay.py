"""Replaying a synthetic scenario into a live source, for ``popflow demo --live`` and tests.

``replay(inputs_dir, target, speedup)`` reads the event files that
``popflow synth`` wrote under ``inputs_dir/events/`` (one per day, in time
order) and sends their rows, unchanged, in time order: to NATS as CSV
messages (each with a ``Nats-Msg-Id``, so JetStream drops a message a
restarted replay sends twice), or into a landing directory as CSV files
written by the write-then-rename convention. ``speedup`` is event seconds per
wall-clock second (3600: an hour of events a second; 0: as fast as possible).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from popflow.errors import PopflowError
from popflow.live.options import SourceAddress
from popflow.live.wire import COLUMNS, encode_csv

TICK = 0.25  # wall seconds of events per message at most, so the replay flows evenly


class ReplayClock:
    """The events' "now" during a paced replay: the first event's time plus the wall seconds since it was due,
    times ``rate`` (the speedup), in UTC epoch seconds; the wall clock until the replay starts."""

    def __init__(self, speedup: float):
        self.rate, self.first_event, self.wall_start = speedup, None, None

    def start(self, first_event: int, wall_start: float) -> None:
        self.first_event, self.wall_start = first_event, wall_start

    def now(self) -> float:
        if self.first_event is None:
            return time.time()
        return self.first_event + (time.monotonic() - self.wall_start) * self.rate


def replay(inputs_dir: str | Path, target: str | Path, speedup: float = 3600.0, *, events_per_message: int = 2000,
           stop: threading.Event | None = None, progress: Callable[[int], None] | None = None,
           clock: ReplayClock | None = None) -> dict:
    """Send the synthetic events of ``inputs_dir`` to ``target`` (``nats://HOST:PORT/SUBJECT`` or ``dir:PATH``).

    Returns ``{"events", "messages", "seconds", "target"}``. ``progress(events_sent)`` is called after
    each message; setting ``stop`` ends the replay early; ``clock`` (paced replays) is started with the first event.
    """
    address = SourceAddress.parse(target if str(target).startswith(("dir:", "nats:")) else f"dir:{target}")
    files = event_files(Path(inputs_dir))
    chunks = _paced(_chunks(files, events_per_message, speedup), speedup, stop or threading.Event(), clock)
    started = time.monotonic()
    if address.kind == "dir":
        sent = _to_directory(chunks, address.path, progress)
    else:
        sent = asyncio.run(_to_nats(chunks, address, progress))
    return {"events": sent[0], "messages": sent[1], "seconds": round(time.monotonic() - started, 3),
            "target": str(address)}


def event_files(inputs_dir: Path) -> list[Path]:
    """The daily event files of a synthetic scenario, oldest first."""
    files = sorted(p for p in (inputs_dir / "events").glob("events-*") if p.name.endswith((".csv.gz", ".parquet")))
    if not files:
        raise PopflowError(f"{inputs_dir}/events: no event files (run 'popflow synth --out {inputs_dir}')")
    return files


def _read(path: Path) -> tuple[pa.Table, np.ndarray]:
    """A day's events and their UTC epoch seconds, in time order."""
    if path.name.endswith(".parquet"):
        table = pq.read_table(path)
        seconds = table["timestamp"].cast(pa.int64())
    else:
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in COLUMNS}))
        instants = pc.strptime(table["timestamp"], format="%Y-%m-%dT%H:%M:%S%z", unit="s", error_is_null=True)
        seconds = instants.cast(pa.int64())
    seconds = seconds.fill_null(0).to_numpy()
    order = np.argsort(seconds, kind="stable")
    return table.take(pa.array(order)), seconds[order]


def _chunks(files: list[Path], size: int, speedup: float) -> Iterator[tuple[str, pa.Table, int]]:
    """(id, rows, first event time) of each message: at most ``size`` rows and TICK wall seconds of events."""
    span = speedup * TICK if speedup else float("inf")
    for path in files:
        table, seconds = _read(path)
        start = 0
        while start < table.num_rows:
            end = min(start + size, int(np.searchsorted(seconds, seconds[start] + span, side="right")))
            end = max(end, start + 1)
            yield f"{path.name}:{start}", table.slice(start, end - start), int(seconds[start])
            start = end


def _paced(chunks, speedup: float, stop: threading.Event, clock: ReplayClock | None = None):
    """Hold each message back until its first event is due at ``speedup``."""
    first_event = wall_start = None
    for ident, table, event_time in chunks:
        if stop.is_set():
            return
        if speedup:
            if first_event is None:
                first_event, wall_start = event_time, time.monotonic()
                if clock is not None:
                    clock.start(first_event, wall_start)
            wait = wall_start + (event_time - first_event) / speedup - time.monotonic()
            if wait > 0 and stop.wait(wait):
                return
        yield ident, table


def _to_directory(chunks, folder: Path, progress) -> tuple[int, int]:
    folder.mkdir(parents=True, exist_ok=True)
    events = messages = 0
    for ident, table in chunks:
        name = "replay-" + ident.replace(":", "-").replace(".csv.gz", "").replace(".parquet", "") + ".csv"
        tmp = folder / f".{name}.tmp"
        tmp.write_bytes(encode_csv(table))
        os.replace(tmp, folder / name)  # complete before it becomes visible
        events, messages = events + table.num_rows, messages + 1
        if progress:
            progress(events)
    return events, messages


async def _to_nats(chunks, address: SourceAddress, progress) -> tuple[int, int]:
    from popflow.live.nats_source import connect, ensure_stream

    nc, js = await connect(address)
    events = messages = 0
    try:
        await ensure_stream(js, address.subject)
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:  # pacing sleeps off the loop
            ident, table = chunk
            await js.publish(address.subject, encode_csv(table), headers={"Nats-Msg-Id": ident})
            events, messages = events + table.num_rows, messages + 1
            if progress:
                progress(events)
    finally:
        await nc.close()
    return events, messages
