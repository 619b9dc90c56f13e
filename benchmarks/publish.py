"""A monthly package published at once (``popflow publish``) against its releases run one by one.

    python benchmarks/publish.py                          # 50 000 people × 35 days ≈ 10 M events
    python benchmarks/publish.py --people 500000 --turns 1  # ≈ 100 M events

The package: present-population at two levels (district, city) × three
breakdowns (none, gender, age band), residents, workers, od-flows, migration
and tourism, in k mode, each written to a Parquet file. Builds the synthetic
scenario of ``benchmarks/speed.py`` over 35 days (two calendar months, so
migration has a pair of months) and ingests it once into its own workspace.
Each turn times the releases one by one (``Workspace.run``, each in its own
engine) and the package (``Workspace.publish``, one session), in alternating
order so that other work on the machine weighs on both alike; it prints both
times and their ratio per turn, then the median ratio. The last turn checks
that every table of the package equals the same release run alone.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from spark_scaling import workspace  # noqa: E402
from speed import scenario  # noqa: E402

PACKAGE = {
    "format": "parquet",
    "release": [
        {"run": "present-population", "level": ["district", "city"], "by": ["", "gender", "age_band"]},
        {"run": "residents"}, {"run": "workers"}, {"run": "od-flows"}, {"run": "migration"}, {"run": "tourism"},
    ],
}


def one_by_one(ws, plan) -> tuple[float, list]:
    """Seconds to run every release of the plan on its own, and the releases."""
    started, releases = time.perf_counter(), []
    for planned in plan.releases:
        releases.append(ws.run(planned.indicator, out=planned.out, **planned.params))
    return time.perf_counter() - started, releases


def as_package(ws, plan) -> tuple[float, list]:
    """Seconds to publish the plan as one package, and its releases."""
    started = time.perf_counter()
    releases = ws.publish(plan)
    return time.perf_counter() - started, releases


def main() -> None:
    from popflow.plan import Plan

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/popflow-bench"))
    parser.add_argument("--turns", type=int, default=3)
    args = parser.parse_args()
    inputs = scenario(args.dir, args.people, args.days)
    ws = workspace(inputs, args.dir / f"ws-publish-{args.people}-{args.days}")
    events = sum(b["quality"]["rows"]["accepted"] for b in ws.lake.batches("events"))
    print(f"events: {events:,}  people: {args.people:,}  days: {args.days}")
    alone_plan = Plan.from_dict(PACKAGE | {"output": str(ws.path / "alone")})
    package_plan = Plan.from_dict(PACKAGE | {"output": str(ws.path / "package")})
    (ws.path / "alone").mkdir(exist_ok=True)
    print(f"{len(package_plan.releases)} releases; turn, one by one (s), as a package (s), ratio")
    ratios = []
    for turn in range(args.turns):
        if turn % 2:
            package_s, package = as_package(ws, package_plan)
            alone_s, alone = one_by_one(ws, alone_plan)
        else:
            alone_s, alone = one_by_one(ws, alone_plan)
            package_s, package = as_package(ws, package_plan)
        ratios.append(package_s / alone_s)
        print(f"{turn + 1}  {alone_s:8.1f}  {package_s:8.1f}  {ratios[-1]:.2f}", flush=True)
    for a, p in zip(alone, package, strict=True):
        for name, table in a.tables.items():
            assert table.equals(p.tables[name]), f"{a.manifest['indicator']} {name} differs in the package"
    print(f"median ratio package / one by one: {statistics.median(ratios):.2f} over {args.turns} turn(s); "
          "every table equal")


if __name__ == "__main__":
    main()
