"""Helpers of the live-mode tests: a real nats-server, a synthetic workspace, stream processes, checks.

(No tests here; the name only lets the test modules import it.)
"""

from __future__ import annotations

import contextlib
import datetime
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
import tomli_w

import popflow
from popflow import synth
from popflow.live import LiveView
from popflow.live.wire import COLUMNS
from popflow.pseudonymise import KeyRing

DIMENSIONS = ("areas", "cells", "subscribers")
START = datetime.date(2026, 1, 19)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def nats_server(folder: Path):
    """A real nats-server with JetStream on a free loopback port; yields its nats:// URL."""
    if shutil.which("nats-server") is None:
        pytest.skip("nats-server is not installed (scripts/test.sh installs Debian's nats-server)")
    port = free_port()
    store = folder / "nats-store"
    store.mkdir(parents=True, exist_ok=True)
    log = (folder / "nats-server.log").open("w")
    proc = subprocess.Popen(["nats-server", "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, proc)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("nats-server exited at start")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError("nats-server did not start")


def synthetic_inputs(folder: Path, people: int = 2000, days: int = 1) -> Path:
    """``popflow synth`` output for a small region."""
    synth.generate(folder, people=people, days=days, seed=3, start=START)
    return folder


def workspace_with_dimensions(folder: Path, inputs: Path, k: int = 5) -> popflow.Workspace:
    """A workspace with areas, cells and subscribers ingested and no events."""
    ws = popflow.Workspace.init(folder, timezone="Asia/Shanghai", home_mcc=("460",), k=k)
    for source in DIMENSIONS:
        ws.ingest(source, sorted(inputs.glob(f"{source}.*")))
    return ws


def stream_process(ws: popflow.Workspace, source: str, *options: str) -> subprocess.Popen:
    """``python -m popflow.live stream`` as a child process."""
    command = [sys.executable, "-m", "popflow.live", "stream", "--source", source, "-w", str(ws.path),
               "--retain", "72h", *options]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, timeout: float = 60) -> None:
    """Wait for a stream started with --idle-exit and check it ended well."""
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode()


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def with_settings(ws: popflow.Workspace, **values) -> popflow.Workspace:
    """The workspace with settings changed in its ``popflow.toml``."""
    path = ws.path / "popflow.toml"
    path.write_text(tomli_w.dumps({**tomllib.loads(path.read_text()), **values}))
    return popflow.Workspace(ws.path)


def source_events(inputs: Path, ws: popflow.Workspace) -> pd.DataFrame:
    """The synthetic events as the lake should hold them: pseudonym, local epoch t, cell."""
    tables = [pacsv.read_csv(p, convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in COLUMNS}))
              for p in sorted((inputs / "events").glob("events-*.csv.gz"))]
    table = pa.concat_tables(tables)
    person = KeyRing(ws.path).columns(table["subscriber_id"])[0]
    local = pd.to_datetime(pd.Series(table["timestamp"].to_pylist()).str[:19])
    return pd.DataFrame({"person": person.to_numpy(), "t": (local - pd.Timestamp(0)) // pd.Timedelta(seconds=1),
                         "cell_id": table["cell_id"].to_pylist()})


def lake_events(ws: popflow.Workspace) -> pd.DataFrame:
    return popflow.Workspace(ws.path).connect().sql("SELECT person, t, cell_id FROM events").df()


def multiset(frame: pd.DataFrame) -> pd.Series:
    """Each distinct row with how often it occurs."""
    return frame.value_counts().sort_index()


def assert_live_matches_batch(ws: popflow.Workspace, by: tuple[str, ...] = (), level: str | None = None,
                              privacy: str | None = None) -> int:
    """The live view's published cells equal the batch present-population release by observed bin locations (the
    rule the stream computes) in privacy mode ``privacy`` (default: the workspace's); returns the rows."""
    params = {"by": ",".join(by), **({"level": level} if level else {}), **({"privacy": privacy} if privacy else {})}
    batch = popflow.Workspace(ws.path).run("present-population", method="observed", **params).to_pandas()
    live = LiveView(ws.path).snapshot(by=by, level=level).to_pandas()
    keys = ["time", "area_id", *by]
    expected = batch.set_index(keys)["people"].sort_index()
    actual = live.set_index(keys)["people"].sort_index()
    pd.testing.assert_series_equal(actual, expected, check_dtype=False)
    return len(expected)


def settled(view: LiveView, after: int | None = None, quiet: float = 0.8, timeout: float = 30.0) -> int:
    """Wait for a snapshot newer than ``after`` that then stays unchanged for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        assert time.monotonic() < deadline, "no settled live snapshot"
        version = view.version()
        if version is not None and version != after:
            time.sleep(quiet)
            if view.version() == version:
                return version
        time.sleep(0.05)
