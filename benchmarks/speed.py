"""Speed of popflow against hand-written DuckDB SQL computing the same definitions.

    python benchmarks/speed.py --people 100000 --days 7      # ≈ 4 M events
    python benchmarks/speed.py --people 1000000 --days 7     # ≈ 40 M events

Generates a synthetic scenario (Parquet events), ingests it with keyed
pseudonymisation (events/s), then times each indicator through popflow
(disclosure control, audit and Parquet output included) and, in the same run,
a hand-written DuckDB query of the bin-location definition with the same k
cut-off. present-population and od-flows are timed with both methods side by
side (``--method observed``, the bin-location rule the hand-written SQL
computes, and ``--method stays``), with the cost of stays relative to
observed. ``--repeat N`` keeps the fastest of N runs of each release.
The popflow part runs in a child process so its peak RSS can be reported.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

K = 15
# (indicator, method) timed through popflow; None for indicators without --method.
RELEASES = (("present-population", "observed"), ("present-population", "stays"), ("residents", None),
            ("od-flows", "observed"), ("od-flows", "stays"))

HAND_WRITTEN = {
    "present-population": f"""
        WITH b AS (SELECT person, t - t % 3600 AS bin, area_id, count(*) n, max(t) last
                   FROM ev GROUP BY ALL),
        loc AS (SELECT person, bin, arg_min(area_id, (-n, -last, area_id)) AS area_id FROM b GROUP BY ALL)
        SELECT bin, area_id, count(*) AS people FROM loc GROUP BY ALL HAVING count(*) >= {K}""",
    "residents": f"""
        WITH ne AS (SELECT person, (t - 79200) // 86400 AS night, area_id, t FROM ev
                    WHERE (t - 79200) % 86400 < 28800),
        nb AS (SELECT person, night, area_id, count(*) n, max(t) last FROM ne GROUP BY ALL),
        nl AS (SELECT person, night, arg_min(area_id, (-n, -last, area_id)) AS area_id FROM nb GROUP BY ALL),
        cnt AS (SELECT person, strftime(DATE '1970-01-01' + night::INT, '%Y-%m') AS period, area_id,
                       count(*) AS nights FROM nl GROUP BY ALL),
        evs AS (SELECT person, strftime(DATE '1970-01-01' + night::INT, '%Y-%m') AS period, area_id,
                       count(*) AS events FROM ne GROUP BY ALL),
        home AS (SELECT c.person, c.period, arg_min(c.area_id, (-c.nights, -e.events, c.area_id)) AS area_id,
                        max(c.nights) AS nights
                 FROM cnt c JOIN evs e USING (person, period, area_id) GROUP BY ALL)
        SELECT period, area_id, count(*) AS people FROM home WHERE nights >= 3 GROUP BY ALL
        HAVING count(*) >= {K}""",
    "od-flows": f"""
        WITH b AS (SELECT person, t - t % 3600 AS bin, area_id, count(*) n, max(t) last FROM ev GROUP BY ALL),
        loc AS (SELECT person, bin, arg_min(area_id, (-n, -last, area_id)) AS area_id FROM b GROUP BY ALL),
        seq AS (SELECT person, bin // 86400 AS day, area_id,
                       lag(area_id) OVER (PARTITION BY person, bin // 86400 ORDER BY bin) AS prev FROM loc),
        trips AS (SELECT day, prev AS origin, area_id AS destination, person, count(*) AS n FROM seq
                  WHERE prev IS NOT NULL AND prev <> area_id GROUP BY ALL)
        SELECT day, origin, destination, sum(n) AS trips, count(*) AS travellers FROM trips GROUP BY ALL
        HAVING count(*) >= {K}""",
}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def scenario(folder: Path, people: int, days: int) -> Path:
    inputs = folder / f"inputs-{people}-{days}"
    if not (inputs / "truth" / "homes.csv").exists():
        from popflow import synth

        synth.generate(inputs, people=people, days=days, seed=3, events_format="parquet")
    return inputs


def popflow_part(inputs: Path, workspace: Path, repeat: int) -> dict:
    """Ingest and run the indicators through popflow; runs in a child process."""
    import popflow
    from popflow.demo import ingest_scenario

    shutil.rmtree(workspace, ignore_errors=True)
    ws = popflow.Workspace.init(workspace, timezone="Asia/Shanghai", home_mcc=("460",), k=K)
    ingest_scenario(ws, inputs, ("areas", "cells", "subscribers", "population"))
    started = time.perf_counter()
    report = ws.ingest("events", [inputs / "events"])
    ingest_s = time.perf_counter() - started
    times = [float("inf")] * len(RELEASES)
    for _ in range(repeat):
        for i, (name, method) in enumerate(RELEASES):
            started = time.perf_counter()
            ws.run(name, out=workspace / f"{name}-{method}.parquet", **({"method": method} if method else {}))
            times[i] = min(times[i], time.perf_counter() - started)
    return {"events": report["rows"]["accepted"], "ingest_s": ingest_s, "times": times}


def hand_written(workspace: Path) -> dict:
    """The same definitions as plain DuckDB SQL over the lake's files."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"CREATE VIEW ev AS SELECT person, t, area_id FROM '{workspace}/lake/events/*/data/*/*.parquet'")
    times = {}
    for name, sql in HAND_WRITTEN.items():
        started = time.perf_counter()
        con.sql(f"COPY ({sql}) TO '{workspace}/{name}-hand.parquet' (FORMAT parquet)")
        times[name] = time.perf_counter() - started
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/popflow-bench"))
    parser.add_argument("--repeat", type=int, default=1, help="runs of each release; the fastest counts")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    inputs = scenario(args.dir, args.people, args.days)
    workspace = args.dir / f"ws-{args.people}-{args.days}"
    if args.child:
        print(json.dumps(popflow_part(inputs, workspace, args.repeat)))
        return
    child = subprocess.run([sys.executable, __file__, "--people", str(args.people), "--days", str(args.days),
                            "--dir", str(args.dir), "--repeat", str(args.repeat), "--child"],
                           capture_output=True, text=True, check=True)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    peak = rss_mb()
    baseline = hand_written(workspace)
    events = result["events"]
    print(f"events: {events:,}  people: {args.people:,}  days: {args.days}")
    rate = events / result["ingest_s"] / 1e6
    print(f"ingest with keyed pseudonymisation: {result['ingest_s']:.1f} s = {rate:.2f} M events/s")
    print(f"popflow peak RSS (ingest + indicators): {peak:,.0f} MB")
    print(f"{'indicator':<20} {'method':<9} {'popflow s':>10} {'hand SQL s':>11} {'ratio':>6}")
    seconds = dict(zip(RELEASES, result["times"], strict=True))
    for (name, method), s in seconds.items():
        # The hand-written SQL computes the bin-location rule (--method observed).
        hand = "" if method == "stays" else f"{baseline[name]:>11.2f} {s / baseline[name]:>6.2f}"
        print(f"{name:<20} {method or '—':<9} {s:>10.2f} {hand}")
    for name in ("present-population", "od-flows"):
        print(f"{name}: --method stays takes {seconds[name, 'stays'] / seconds[name, 'observed']:.2f}× "
              "the time of --method observed")


if __name__ == "__main__":
    main()
