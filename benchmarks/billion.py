"""About a billion events on one machine: ingest and three releases, with peak memory and spill.

    python benchmarks/billion.py                                  # 17.5 M people × 10 days ≈ 1 B events
    python benchmarks/billion.py --people 100000 --days 4 --chunk 50000   # a quick check

The events are the synthetic scenario of ``benchmarks/speed.py`` (seed 3),
generated once for ``--chunk`` people and written ``people / chunk`` times,
one day file of one chunk at a time (DuckDB streams it), each copy under its
own subscriber identifiers (the original ones with ``~<chunk>`` appended).
The subscribers register is copied the same way and the census population
multiplied by the number of chunks, so each chunk is a region's worth of
people of its own, moving as the first chunk's do.

Each step runs in a child process of its own: ``popflow ingest`` of the
reference sources and of every events file, and ``popflow run`` of
present-population, residents and od-flows (k mode, the default method and
memory limit). For each step it prints the wall time, CPU time, the peak RSS
of the process (``wait4``), and the peak size of DuckDB's spill folder
``<workspace>/.tmp`` sampled every half second while the step runs; after the
ingest, the lake's size on disk (the generated events are then removed, to
leave room for the spill, unless ``--keep``). DuckDB's memory limit for a
release is ``POPFLOW_MEMORY`` (default 6GB), which the child processes inherit.

Spot check: the same steps run first on the first chunk alone, in a workspace
of its own. Each person's results depend only on that person's events, so
every released cell of the small run must appear in the full run with each
count multiplied by the number of chunks (the full run may release more
cells: those under k in the small run). Each release of the full run is
checked as soon as it is written, so a run stopped early keeps the checks it
reached. The census-weighted estimates (floating-point columns) are modelled,
not counted, and are not compared.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from speed import TIMEZONE, K, scenario  # noqa: E402

RELEASES = ("present-population", "residents", "od-flows")
REFERENCE_SOURCES = ("areas", "cells", "subscribers", "population")
SAMPLE_SECONDS = 0.5
GB = 1e9


def folder_bytes(folder: Path) -> int:
    """Bytes of the files under ``folder`` (0 when it does not exist)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except FileNotFoundError:  # a spill file removed while walking
                pass
    return total


def measured(command: list[str], spill: Path, log: Path, cwd: Path | None = None) -> dict:
    """Run a process to its end, its output appended to ``log``: wall time, CPU seconds, peak RSS (GB) and
    peak bytes under ``spill``."""
    started = time.perf_counter()
    with log.open("a") as sink:
        process = subprocess.Popen(command, cwd=cwd, stdout=sink, stderr=sink)
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_SECONDS):
            peak[0] = max(peak[0], folder_bytes(spill))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    done.set()
    sampler.join()
    if status:
        raise SystemExit(f"failed ({status}): {' '.join(command)}; see {log}")
    return {"wall": time.perf_counter() - started, "cpu": usage.ru_utime + usage.ru_stime,
            "rss": usage.ru_maxrss * 1024 / GB, "spill": peak[0] / GB}


def write_chunks(base: Path, chunks: int, out: Path) -> None:
    """The base scenario's events, subscribers and census ``chunks`` times over, under ``out``.

    Chunk ``i`` is the base chunk with ``~i`` appended to every subscriber
    identifier; DuckDB streams each day's file, so one file is in memory at most.
    """
    events = out / "events"
    events.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("SET memory_limit = '2GB'")
    con.execute("SET preserve_insertion_order = false")
    days = sorted((base / "events").glob("*.parquet"))
    for i in range(chunks):
        for day in days:
            con.execute(f"""COPY (SELECT subscriber_id || '~{i}' AS subscriber_id, * EXCLUDE (subscriber_id)
                                  FROM read_parquet('{day}'))
                            TO '{events / f"{day.stem}-{i:04d}.parquet"}' (FORMAT parquet)""")
    con.execute(f"""COPY (SELECT s.subscriber_id || '~' || c.i AS subscriber_id, s.* EXCLUDE (subscriber_id)
                          FROM read_csv('{base / "subscribers.csv"}', all_varchar = true) s,
                               range({chunks}) c(i) ORDER BY c.i)
                    TO '{out / "subscribers.csv"}' (HEADER)""")
    con.execute(f"""COPY (SELECT area_id, population * {chunks} AS population, adults * {chunks} AS adults
                          FROM read_csv('{base / "population.csv"}'))
                    TO '{out / "population.csv"}' (HEADER)""")
    for name in ("areas.geojson", "cells.csv"):
        shutil.copy(base / name, out / name)


def popflow_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "popflow", *arguments]


def run_steps(inputs: Path, workspace: Path, report, after=lambda step: None) -> None:
    """Ingest ``inputs`` into a fresh ``workspace`` and run the releases, each step measured by ``report``
    and followed by ``after(step)``. The commands' own output goes to ``<workspace>.log``."""
    shutil.rmtree(workspace, ignore_errors=True)
    log, spill = workspace.with_suffix(".log"), workspace / ".tmp"
    with log.open("w") as sink:
        subprocess.run(popflow_command("init", str(workspace), "--timezone", TIMEZONE, "--home-mcc", "460",
                                       "--k", str(K)), check=True, stdout=sink, stderr=sink)
        for source in REFERENCE_SOURCES:
            paths = sorted(str(p) for p in inputs.glob(f"{source}.*"))
            subprocess.run(popflow_command("ingest", source, *paths, "-w", str(workspace)), check=True,
                           stdout=sink, stderr=sink)
    # DuckDB spills into ".tmp" of the current folder: the ingest runs in the workspace so that it spills there.
    report("ingest events", measured(popflow_command("ingest", "events", str(inputs / "events"),
                                                     "-w", str(workspace)), spill, log, cwd=workspace))
    after("ingest events")
    for name in RELEASES:
        out = workspace / f"{name}.parquet"
        report(name, measured(popflow_command("run", name, "-o", str(out), "-w", str(workspace)), spill, log))
        after(name)


def spot_check(full: Path, small: Path, name: str, chunks: int) -> bool:
    """Whether every cell of the small run's release ``name`` is in the full run's with counts × ``chunks``."""
    con = duckdb.connect()
    big = con.sql(f"SELECT * FROM '{full / name}.parquet'")
    counts = [c for c, t in zip(big.columns, big.types, strict=True) if str(t) in ("BIGINT", "INTEGER", "HUGEINT")]
    keys = [c for c, t in zip(big.columns, big.types, strict=True) if str(t) != "DOUBLE" and c not in counts]
    on = " AND ".join(f"f.{k} IS NOT DISTINCT FROM s.{k}" for k in keys)
    scaled = " OR ".join(f"f.{c} IS DISTINCT FROM s.{c} * {chunks}" for c in counts)
    cells, found, differ, full_cells = con.sql(f"""
        SELECT count(*), count(f.{counts[0]}),
               count(*) FILTER (WHERE f.{counts[0]} IS NOT NULL AND ({scaled})),
               (SELECT count(*) FROM '{full / name}.parquet')
        FROM '{small / name}.parquet' s LEFT JOIN '{full / name}.parquet' f ON {on}""").fetchall()[0]
    print(f"    spot check: {cells:,} cells of the small run ({', '.join(counts)}): {found:,} found in the full "
          f"run ({full_cells:,} cells), {differ:,} not {chunks}× the small run's", flush=True)
    return bool(cells) and found == cells and not differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=17_500_000,
                        help="residents in all (a multiple of --chunk); ≈ 5.8 events per resident and day")
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--chunk", type=int, default=500_000, help="residents simulated once and copied")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/popflow-billion"))
    parser.add_argument("--keep", action="store_true",
                        help="keep the generated events (by default removed once ingested) and the workspaces")
    args = parser.parse_args()
    if args.people % args.chunk:
        parser.error("--people must be a multiple of --chunk")
    chunks = args.people // args.chunk
    run = args.dir / f"run-{args.people}-{args.days}"
    shutil.rmtree(run, ignore_errors=True)

    def report(step: str, figures: dict) -> None:
        print(f"  {step:<20} {figures['wall']:>8.1f} s  CPU {figures['cpu']:>8.1f} s  "
              f"peak RSS {figures['rss']:>5.2f} GB  peak spill {figures['spill']:>6.2f} GB", flush=True)

    started = time.perf_counter()
    base = scenario(args.dir, args.chunk, args.days)
    print(f"scenario of {args.chunk:,} people × {args.days} days: {time.perf_counter() - started:.1f} s "
          "(reused when already generated)", flush=True)
    first = run / "first-chunk"
    write_chunks(base, 1, first / "inputs")
    print("the first chunk alone, for the spot checks (wall, CPU, peak RSS, peak spill under .tmp):", flush=True)
    run_steps(first / "inputs", first / "ws", report)
    started = time.perf_counter()
    write_chunks(base, chunks, run / "inputs")
    events = duckdb.sql(f"SELECT count(*) FROM '{run / 'inputs' / 'events'}/*.parquet'").fetchall()[0][0]
    print(f"events: {events:,} ({chunks} chunks of {args.chunk:,} people × {args.days} days, "
          f"{events / args.people / args.days:.1f} per person and day), written in "
          f"{time.perf_counter() - started:.0f} s: {folder_bytes(run / 'inputs' / 'events') / GB:.1f} GB of Parquet",
          flush=True)
    print(f"full run, {math.ceil(events / 1e6):,} M events:", flush=True)
    failed = []

    def after(step: str) -> None:
        if step in RELEASES:
            if not spot_check(run / "ws", first / "ws", step, chunks):
                failed.append(step)
        else:
            lake = folder_bytes(run / "ws" / "lake")
            print(f"    lake on disk: {lake / GB:.1f} GB ({lake / events:.1f} bytes per event)", flush=True)
            if not args.keep:  # the lake holds them now: room for the releases' spill
                shutil.rmtree(run / "inputs" / "events")

    run_steps(run / "inputs", run / "ws", report, after)
    if not args.keep:
        shutil.rmtree(run)
    if failed:
        raise SystemExit(f"spot check failed: {', '.join(failed)}")
    print("spot checks passed: every cell of the small run is in the full run, its counts × the number of chunks")


if __name__ == "__main__":
    main()
