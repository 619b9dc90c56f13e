"""Accuracy of popflow against a synthetic scenario's ground truth.

    python benchmarks/accuracy.py [--people 20000] [--days 35]

Prints district-level home detection accuracy (share of person-months with a
detected home whose home is the true one, and the share detected at all) and
the error of present population per district-hour against the true number of
people, for several --carry values (carry 0 is the observed-only baseline).
"""

from __future__ import annotations

import argparse
import datetime
import shutil
from pathlib import Path

from popflow import Workspace, accuracy, synth
from popflow.demo import ingest_scenario


def build(folder: Path, people: int, days: int) -> Workspace:
    shutil.rmtree(folder, ignore_errors=True)
    inputs = folder / "inputs"
    synth.generate(inputs, people=people, days=days, seed=5, start=datetime.date(2026, 1, 19))
    ws = Workspace.init(folder / "ws", timezone="Asia/Shanghai", home_mcc=("460",), k=15)
    ingest_scenario(ws, inputs, ("areas", "cells", "subscribers", "population", "events"))
    return ws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/popflow-accuracy"))
    args = parser.parse_args()
    ws = build(args.dir, args.people, args.days)
    truth = args.dir / "inputs" / "truth"
    for min_nights in (1, 3, 7):
        scores = accuracy.home_accuracy(ws, str(truth / "homes.csv"), min_nights=min_nights)
        print(f"home (district), --min-nights {min_nights}: accuracy {scores['home_accuracy']:.2%} of detected, "
              f"detected for {scores['home_detection_rate']:.1%} of person-months")
    print(f"{'present-population':<24} {'median |err| %':>15} {'weighted |err| %':>17} {'coverage %':>11}")
    for carry in (0, 1, 3, 6):
        release = ws.run("present-population", carry=carry)
        e = accuracy.presence_error(release.table, str(truth / "presence.parquet"))
        print(f"--carry {carry:<16} {e['median_abs_pct']:>15} {e['weighted_abs_pct']:>17} {e['coverage_pct']:>11}")


if __name__ == "__main__":
    main()
