"""Bounded load on the HTTP API over loopback (not a test): requests/s and latency percentiles.

    python benchmarks/api_load.py                       # 200 req/s for 10 s, then 20 small releases
    python benchmarks/api_load.py --rate 400 --seconds 20 --creates 50

Builds a small workspace (the test scenario: 3 districts, 2 cities), starts
``python -m popflow.service serve`` in a child process on 127.0.0.1, then

1. fetches one cached release table (JSON) at a fixed arrival rate (open loop:
   requests are sent on schedule whatever the latency), goal p99 ≤ 50 ms at 200 req/s;
2. creates small releases one after another (POST, then poll the job until
   done) and reports the time from POST to published.

Only loopback is used; the run stops by itself after --seconds and --creates.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from popflow.service.background import free_port  # noqa: E402
from popflow.service.tokens import TokenStore  # noqa: E402

import scenario  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def start_server(ws_path: Path, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "popflow.service", "serve", "--port", str(port), "--no-access-log",
               "--rate-limit", "100000", "--burst", "100000", "-w", str(ws_path)]
    process = subprocess.Popen(command,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    for _ in range(400):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the server did not start")


def fixed_rate(url: str, headers: dict, rate: float, seconds: float, threads: int = 8) -> dict:
    """Send GET ``url`` at ``rate`` per second for ``seconds`` from a few threads; latency per request."""
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(offset: int) -> None:
        with httpx.Client(headers=headers, timeout=10) as client:
            for i in range(offset, total, threads):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                began = time.perf_counter()
                response = client.get(url)
                elapsed = time.perf_counter() - began
                with lock:
                    latencies.append(elapsed)
                    errors[0] += response.status_code != 200

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - start
    return {"requests": total, "req_per_s": total / wall, "errors": errors[0],
            "p50_ms": 1000 * percentile(latencies, 50), "p99_ms": 1000 * percentile(latencies, 99),
            "max_ms": 1000 * max(latencies)}


def creates(base: str, headers: dict, count: int) -> dict:
    """Create ``count`` small releases one after another; time from POST to published."""
    body = {"indicator": "present-population", "parameters": {"level": "city", "date_from": "2026-01-21",
                                                                "date_to": "2026-01-21"}}
    totals, posts = [], []
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        began_all = time.perf_counter()
        for _ in range(count):
            began = time.perf_counter()
            job = client.post("/api/releases", json=body).json()
            posts.append(time.perf_counter() - began)
            while job["status"] in ("queued", "running"):
                time.sleep(0.01)
                job = client.get(f"/api/jobs/{job['id']}").json()
            assert job["status"] == "done", job
            totals.append(time.perf_counter() - began)
        wall = time.perf_counter() - began_all
    return {"releases": count, "releases_per_s": count / wall, "post_p50_ms": 1000 * percentile(posts, 50),
            "post_p99_ms": 1000 * percentile(posts, 99), "published_p50_ms": 1000 * percentile(totals, 50),
            "published_p99_ms": 1000 * percentile(totals, 99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="GET requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the fetch phase")
    parser.add_argument("--creates", type=int, default=20, help="small releases to create")
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--days", type=int, default=35)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = scenario.workspace(Path(tmp), scenario.random_events(args.people, args.days, 12),
                                scenario.subscribers(args.people), k=5)
        release = ws.run("present-population", who="benchmark").manifest["release_id"]
        raw, _ = TokenStore(ws.path).create("bench", "admin")
        port = free_port()
        server = start_server(ws.path, port)
        try:
            base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {raw}"}
            table = f"{base}/api/releases/{release}/tables/present-population?format=json"
            size = len(httpx.get(table, headers=headers).content)  # warms the cache
            fetch = fixed_rate(table, headers, args.rate, args.seconds)
            made = creates(base, headers, args.creates)
        finally:
            server.terminate()
            server.wait(10)
    print(f"fetch cached release table ({size / 1024:.0f} KiB JSON) at {args.rate:g} req/s for {args.seconds:g} s:")
    print("  {requests} requests, {req_per_s:.1f} req/s achieved, {errors} errors, p50 {p50_ms:.1f} ms, "
          "p99 {p99_ms:.1f} ms, max {max_ms:.1f} ms".format(**fetch))
    print(f"  goal p99 ≤ 50 ms: {'met' if fetch['p99_ms'] <= 50 else 'NOT met'}")
    print("create small releases (present-population, one day, city level), one after another:")
    print("  {releases} releases, {releases_per_s:.2f} releases/s; "
          "POST p50 {post_p50_ms:.1f} ms p99 {post_p99_ms:.1f} ms; "
          "POST→published p50 {published_p50_ms:.0f} ms p99 {published_p99_ms:.0f} ms".format(**made))


if __name__ == "__main__":
    main()
