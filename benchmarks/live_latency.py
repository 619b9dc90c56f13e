"""Live mode: sustained event rate and publish-to-visible latency against a real nats-server.

For each rate, a publisher process sends CSV messages of events (random people
from a subscriber register of ``--people``, random cells, the current time)
to JetStream at a fixed pace for ``--seconds``; ``python -m popflow.live
stream`` consumes them in its own process. A message is *visible* when a
snapshot that includes it has been published (``live/status.json`` records
the last stream sequence each snapshot covers, and when it was written).
Reports p50/p99 latency per rate, whether the stream kept up, and where the
consumer's time went (seconds per stage, per million events).

    python benchmarks/live_latency.py --rates 25000,50000,100000 --seconds 30

Not a test: it prints figures. Needs ``nats-server`` on PATH and nats-py.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

import popflow
from popflow import synth

SUBJECT = "bench.events"
TIMEZONE = "Asia/Shanghai"


def main() -> None:
    args = parse_args()
    root = Path(tempfile.mkdtemp(prefix="popflow-live-bench-"))
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; work folder {root}")
    template = build_workspace(root, args.people)
    results = []
    for rate in args.rates:
        results.append(run_rate(root, template, rate, args))
        print_result(results[-1])
    sustained = [r["rate"] for r in results if r["kept_up"] and r["p99"] is not None and r["p99"] <= 5.0]
    print(f"\nmaximum sustained rate with p99 ≤ 5 s: {max(sustained):,} events/s" if sustained
          else "\nno rate was sustained with p99 ≤ 5 s")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="25000,50000,100000", help="events per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=30.0, help="publishing time per rate")
    parser.add_argument("--people", type=int, default=500_000, help="subscribers in the register (and senders)")
    parser.add_argument("--events-per-message", type=int, default=2000)
    parser.add_argument("--checkpoint-every", default="10s")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    args.rates = [int(r) for r in args.rates.split(",")]
    return args


def build_workspace(root: Path, people: int) -> Path:
    """A workspace with a synthetic region's areas and cells and a register of ``people`` subscribers."""
    started = time.perf_counter()
    region = root / "region"
    synth.generate(region, people=1000, days=1, seed=1)
    ws = popflow.Workspace.init(root / "template", timezone=TIMEZONE, home_mcc=("460",), k=15)
    ws.ingest("areas", [region / "areas.geojson"])
    ws.ingest("cells", [region / "cells.csv"])
    rng = np.random.default_rng(0)
    register = pa.table({
        "subscriber_id": phone_numbers(people),
        "gender": rng.choice(["F", "M"], people), "birth_year": rng.integers(1945, 2010, people).astype(str),
        "origin_region": rng.choice([f"{r}0000" for r in range(11, 66)], people)})
    pacsv.write_csv(register, root / "subscribers.csv")
    ws.ingest("subscribers", [root / "subscribers.csv"])
    print(f"workspace: {people:,} subscribers, {len(cell_ids(ws.path)):,} cells "
          f"({time.perf_counter() - started:.0f} s to build)")
    return ws.path


def phone_numbers(count: int) -> pa.Array:
    return pa.array([f"+86139{i:08d}" for i in range(count)])


def cell_ids(workspace: Path) -> list[str]:
    con = popflow.Workspace(workspace).connect()
    return [r[0] for r in con.execute("SELECT cell_id FROM cells WHERE area_id IS NOT NULL").fetchall()]


def run_rate(root: Path, template: Path, rate: int, args) -> dict:
    """One run: fresh workspace copy and NATS store, publisher and stream processes, latency from status."""
    folder = root / f"rate-{rate}"
    shutil.copytree(template, folder / "ws")
    port = free_port()
    server = subprocess.Popen(["nats-server", "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(folder / "nats")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"nats://127.0.0.1:{port}/{SUBJECT}"
    try:
        time.sleep(0.5)
        asyncio.run(create_stream(url))
        stream = subprocess.Popen([sys.executable, "-m", "popflow.live", "stream", "--source", url,
                                   "-w", str(folder / "ws"), "--checkpoint-every", args.checkpoint_every],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for_file(folder / "ws" / "live" / "status.json", 60)
        sent = folder / "sent.npy"
        publisher = multiprocessing.Process(target=publish, args=(url, rate, args, template, sent))
        publisher.start()
        visible = watch(folder / "ws" / "live" / "status.json", publisher, args.seconds + 60)
        publisher.join()
        stream_cpu, stream_rss = cpu_seconds(stream.pid), peak_rss_mb(stream.pid)
        stream.send_signal(signal.SIGTERM)
        stream.wait(120)
        return summarise(rate, np.load(sent), visible, folder, stream_cpu, args) | {"stream_rss": stream_rss}
    finally:
        server.terminate()
        server.wait(10)


async def create_stream(url: str) -> None:
    from popflow.live.nats_source import connect, ensure_stream
    from popflow.live.options import SourceAddress

    address = SourceAddress.parse(url)
    nc, js = await connect(address)
    await ensure_stream(js, address.subject)
    await nc.close()


def publish(url: str, rate: int, args, template: Path, out: Path) -> None:
    """The publisher process: paced messages; records (stream sequence, send time, events) of each."""
    asyncio.run(_publish(url, rate, args, template, out))


async def _publish(url: str, rate: int, args, template: Path, out: Path) -> None:
    from popflow.live.nats_source import connect
    from popflow.live.options import SourceAddress

    address = SourceAddress.parse(url)
    nc, js = await connect(address)
    phones, cells = phone_numbers(args.people), pa.array(cell_ids(template))
    rng = np.random.default_rng(rate)
    size, interval = args.events_per_message, args.events_per_message / rate
    started, records, acks = time.time(), [], []
    count = int(args.seconds * rate / size)
    for number in range(count):
        delay = started + number * interval - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        payload = message(phones, cells, rng, size)
        sent = time.time()
        acks.append(await js.publish_async(SUBJECT, payload))
        records.append(sent)
    results = await asyncio.gather(*acks)
    await nc.close()
    np.save(out, np.array([(r.seq, t, size) for r, t in zip(results, records, strict=True)], np.float64))


def message(phones: pa.Array, cells: pa.Array, rng, size: int) -> bytes:
    now = int(time.time())
    table = pa.table({"subscriber_id": phones.take(pa.array(rng.integers(0, len(phones), size))),
                      "timestamp": pa.array(np.full(size, now)),
                      "cell_id": cells.take(pa.array(rng.integers(0, len(cells), size)))})
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(quoting_style="needed"))
    return sink.getvalue().to_pybytes()


def watch(status: Path, publisher, timeout: float) -> list[tuple[float, int]]:
    """(snapshot time, last sequence covered) of every snapshot until the stream caught up."""
    seen, deadline, last_change = [], time.time() + timeout, time.time()
    while time.time() < deadline:
        try:
            record = json.loads(status.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            record = None
        if record and record.get("position", {}).get("last_seq"):
            published = datetime.datetime.fromisoformat(record["published_at"]).timestamp()
            point = (published, record["position"]["last_seq"])
            if not seen or point[1] != seen[-1][1]:
                seen.append(point)
                last_change = time.time()
        if not publisher.is_alive() and time.time() - last_change > 8:
            break
        time.sleep(0.05)
    return seen


def summarise(rate: int, sent: np.ndarray, visible: list, folder: Path, stream_cpu: float, args) -> dict:
    seqs, sent_at = sent[:, 0].astype(np.int64), sent[:, 1]
    times = np.array([t for t, _ in visible]) if visible else np.zeros(0)
    covered = np.array([s for _, s in visible]) if visible else np.zeros(0, np.int64)
    first_cover = np.searchsorted(np.maximum.accumulate(covered), seqs) if len(covered) else np.full(len(seqs), 0)
    shown = first_cover < len(covered)
    latency = times[first_cover[shown]] - sent_at[shown] if shown.any() else np.zeros(0)
    status = json.loads((folder / "ws" / "live" / "status.json").read_text())
    events = int(sent[:, 2].sum())
    return {
        "rate": rate, "events": events, "messages": len(seqs), "shown": int(shown.sum()),
        "kept_up": bool(shown.all()), "p50": _pct(latency, 50), "p99": _pct(latency, 99),
        "max": _pct(latency, 100), "accepted": status["events"]["accepted"],
        "achieved_rate": events / max(sent_at[-1] - sent_at[0], 1e-9),
        "stages": status["seconds_by_stage"], "stream_cpu": stream_cpu,
        "lake_rows": popflow.Workspace(folder / "ws").connect().execute("SELECT count(*) FROM events").fetchall()[0][0],
    }


def _pct(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None


def print_result(r: dict) -> None:
    print(f"\nrate {r['rate']:,}/s (sent {r['achieved_rate']:,.0f}/s): {r['events']:,} events in {r['messages']:,} "
          f"messages; visible {r['shown']}/{r['messages']} messages; kept up: {r['kept_up']}")
    if r["p50"] is not None:
        print(f"  publish-to-visible latency p50 {r['p50']:.2f} s, p99 {r['p99']:.2f} s, max {r['max']:.2f} s")
    print(f"  stream process CPU {r['stream_cpu']:.1f} s, peak RSS {r['stream_rss']:,.0f} MB; "
          f"lake rows {r['lake_rows']:,} (accepted {r['accepted']:,})")
    per_million = {k: v / max(r["events"], 1) * 1e6 for k, v in r["stages"].items()}
    print("  stream seconds per million events: " + ", ".join(f"{k} {v:.2f}" for k, v in per_million.items()))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_file(path: Path, timeout: float) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        if time.time() > deadline:
            raise RuntimeError(f"{path} did not appear")
        time.sleep(0.1)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
