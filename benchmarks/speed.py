"""Speed of popflow against hand-written DuckDB SQL computing the same definitions.

    python benchmarks/speed.py --people 250000 --days 7      # ≈ 10 M events
    python benchmarks/speed.py --people 2600000 --days 7     # ≈ 100 M events

Generates a synthetic scenario (Parquet events). **Ingest**: a minimal
hand-written DuckDB ingest of the same files (HMAC-SHA256 of each distinct id,
a join to the cell → area table, Parquet partitioned by local day; no
validation, no quarantine, no quality report) and ``popflow ingest events``
are timed as whole processes, taking turns (``--turns``, the fastest of each
counts; CPU seconds are printed too, since a shared machine makes wall times
noisy). **Releases**: each indicator through popflow (disclosure control,
audit and Parquet output included) and, in the same run, a hand-written
DuckDB query of the bin-location definition with the same k cut-off.
present-population and od-flows are timed with both methods side by side
(``--method observed``, the bin-location rule the hand-written SQL computes,
and ``--method stays``), with the cost of stays relative to observed.
``--repeat N`` keeps the fastest of N runs of each release. Releases run in a
child process of their own; the peak RSS of each process is reported.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa

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


TIMEZONE = "Asia/Shanghai"


def scenario(folder: Path, people: int, days: int) -> Path:
    inputs = folder / f"inputs-{people}-{days}"
    if not (inputs / "truth" / "homes.csv").exists():
        from popflow import synth

        synth.generate(inputs, people=people, days=days, seed=3, events_format="parquet")
    return inputs


def base_workspace(inputs: Path, folder: Path) -> Path:
    """A workspace holding every input but the events, which each timed ingest starts from."""
    import popflow
    from popflow.demo import ingest_scenario

    shutil.rmtree(folder, ignore_errors=True)
    ws = popflow.Workspace.init(folder, timezone=TIMEZONE, home_mcc=("460",), k=K)
    ingest_scenario(ws, inputs, ("areas", "cells", "subscribers", "population"))
    return folder


def minimal_ingest(inputs: Path, base: Path, out: Path) -> None:
    """The hand-written ingest: keyed pseudonyms of the distinct ids, cell → area, Parquet by local day."""
    key = (base / "secret.key").read_bytes()
    files = [str(p) for p in sorted((inputs / "events").glob("*.parquet"))]
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{TIMEZONE}'")
    ids = con.sql(f"SELECT DISTINCT subscriber_id FROM read_parquet({files})").fetchnumpy()["subscriber_id"]
    people = [int.from_bytes(hmac.new(key, i.encode(), hashlib.sha256).digest()[:8], "big", signed=True)
              for i in ids]
    con.register("ids", pa.table({"subscriber_id": pa.array(ids, pa.string()), "person": pa.array(people, pa.int64())}))
    con.execute(f"""COPY (
        SELECT i.person, epoch(timezone('{TIMEZONE}', to_timestamp(e.timestamp)))::BIGINT AS t, e.cell_id,
               c.area_id, e.event_type, e.mcc, timezone('{TIMEZONE}', to_timestamp(e.timestamp))::DATE AS date
        FROM read_parquet({files}) e JOIN ids i USING (subscriber_id)
        JOIN read_parquet('{base}/lake/cells/*/data/*.parquet') c USING (cell_id)
    ) TO '{out}' (FORMAT parquet, PARTITION_BY (date))""")


def timed(command: list[str]) -> dict:
    """Run a process; its wall time, CPU seconds, peak RSS (MB) and standard output."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status:
        raise SystemExit(f"failed ({status}): {' '.join(command)}")
    return {"wall": time.perf_counter() - started, "cpu": usage.ru_utime + usage.ru_stime,
            "rss": usage.ru_maxrss / 1024, "output": output}


def fastest(runs: list[dict]) -> dict:
    return min(runs, key=lambda run: run["wall"])


def ingest_turns(inputs: Path, folder: Path, turns: int) -> tuple[dict, dict, Path]:
    """The minimal ingest and popflow's, in turns; the fastest run of each and popflow's workspace."""
    base = base_workspace(inputs, folder / "base")
    workspace, out = folder / "ws", folder / "minimal"
    minimal, ours = [], []
    for _ in range(turns):
        shutil.rmtree(out, ignore_errors=True)
        minimal.append(timed([sys.executable, __file__, "--minimal-ingest", str(inputs), str(base), str(out)]))
        shutil.rmtree(workspace, ignore_errors=True)
        shutil.copytree(base, workspace)
        ours.append(timed([sys.executable, "-m", "popflow", "ingest", "events", str(inputs / "events"),
                           "-w", str(workspace)]))
    return fastest(minimal), fastest(ours), workspace


def popflow_part(workspace: Path, repeat: int) -> dict:
    """Run the indicators through popflow on the ingested workspace; runs in a child process."""
    import popflow

    ws = popflow.Workspace(workspace)
    times = [float("inf")] * len(RELEASES)
    for _ in range(repeat):
        for i, (name, method) in enumerate(RELEASES):
            started = time.perf_counter()
            ws.run(name, out=workspace / f"{name}-{method}.parquet", **({"method": method} if method else {}))
            times[i] = min(times[i], time.perf_counter() - started)
    return {"times": times}


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
    parser.add_argument("--turns", type=int, default=2, help="ingests of each kind, in turns; the fastest counts")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each release; the fastest counts")
    parser.add_argument("--ingest-only", action="store_true", help="time the ingests only, not the releases")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--minimal-ingest", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.minimal_ingest:
        minimal_ingest(*args.minimal_ingest)
        return
    if args.child:
        print(json.dumps(popflow_part(args.child, args.repeat)))
        return
    inputs = scenario(args.dir, args.people, args.days)
    minimal, ours, workspace = ingest_turns(inputs, args.dir / f"run-{args.people}-{args.days}", args.turns)
    events = duckdb.sql(f"SELECT count(*) FROM '{workspace}/lake/events/*/data/*/*.parquet'").fetchall()[0][0]
    print(f"events: {events:,}  people: {args.people:,}  days: {args.days}")
    print(f"ingest, whole processes, fastest of {args.turns} turns each:")
    for name, run in (("minimal hand-written DuckDB", minimal), ("popflow ingest events", ours)):
        print(f"  {name:<28} {run['wall']:>7.1f} s = {events / run['wall'] / 1e6:.2f} M events/s  "
              f"(CPU {run['cpu']:.1f} s, peak RSS {run['rss']:,.0f} MB)")
    print(f"  popflow / minimal: {ours['wall'] / minimal['wall']:.2f}× wall time, "
          f"{ours['cpu'] / minimal['cpu']:.2f}× CPU time")
    if not args.ingest_only:
        releases(workspace, args.repeat)


def releases(workspace: Path, repeat: int) -> None:
    """Time the releases through popflow (in a child process) and the hand-written SQL."""
    child = timed([sys.executable, __file__, "--repeat", str(repeat), "--child", str(workspace)])
    seconds = dict(zip(RELEASES, json.loads(child["output"].strip().splitlines()[-1])["times"], strict=True))
    baseline = hand_written(workspace)
    print(f"popflow peak RSS of the releases: {child['rss']:,.0f} MB")
    print(f"{'indicator':<20} {'method':<9} {'popflow s':>10} {'hand SQL s':>11} {'ratio':>6}")
    for (name, method), s in seconds.items():
        # The hand-written SQL computes the bin-location rule (--method observed).
        hand = "" if method == "stays" else f"{baseline[name]:>11.2f} {s / baseline[name]:>6.2f}"
        print(f"{name:<20} {method or '—':<9} {s:>10.2f} {hand}")
    for name in ("present-population", "od-flows"):
        print(f"{name}: --method stays takes {seconds[name, 'stays'] / seconds[name, 'observed']:.2f}× "
              "the time of --method observed")


if __name__ == "__main__":
    main()
