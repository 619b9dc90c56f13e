"""``popflow demo``: synthetic region → workspace → every indicator → report, in one go."""

from __future__ import annotations

import datetime
import shutil
from collections.abc import Callable
from pathlib import Path

from popflow import accuracy, synth
from popflow.geography import area_geometries
from popflow.report import build_report
from popflow.workspace import Workspace

# A Monday; 35 days then cover the last two weeks of January and most of February,
# so that migrant workers arriving during the period show up as February arrivals.
START = datetime.date(2026, 1, 19)
DIMENSIONS = ("areas", "cells", "subscribers", "population")

# (indicator, output file, parameters): every indicator, each released under k-anonymity.
RELEASES = (
    ("present-population", "present-population.parquet", {}),
    ("present-population", "present-population-carry3.parquet", {"carry": 3}),
    ("present-population", "present-population-city-by-age.csv", {"level": "city", "by": "age_band"}),
    ("residents", "residents.geojson", {}),
    ("residents", "residents-by-gender.csv", {"by": "gender"}),
    ("workers", "workers.csv", {}),
    ("od-flows", "od-flows.csv", {}),
    ("migration", "migration.csv", {"level": "city"}),
)


def run_demo(out: Path, people: int = 20_000, days: int = 35, seed: int = 1,
             say: Callable[[str], None] = print, progress=None) -> dict:
    """Build the demo under ``out``; returns paths and accuracy figures."""
    if out.exists():
        shutil.rmtree(out)
    inputs, workspace, outputs = out / "inputs", out / "workspace", out / "outputs"
    say(f"synthetic region: {people:,} people × {days} days → {inputs}")
    summary = synth.generate(inputs, people=people, days=days, seed=seed, start=START, progress=progress)
    ws = Workspace.init(workspace, timezone="Asia/Shanghai", home_mcc=("460",), k=15)
    quality = [ws.ingest(source, sorted(inputs.glob(f"{source}.*"))) for source in DIMENSIONS]
    say(f"ingesting {summary['events']:,} events")
    quality.append(ws.ingest("events", [inputs / "events"]))
    tables = {}
    for name, filename, params in RELEASES:
        release = ws.run(name, out=outputs / filename, **params)
        say(f"{name} {params or ''} → {outputs / filename}: {release.manifest['rows']}")
        for table_name, table in release.tables.items():
            tables.setdefault(table_name, table)
    truth = inputs / "truth"
    scores = {**accuracy.home_accuracy(ws, str(truth / "homes.csv")), "presence_error": {
        "carry_0h": accuracy.presence_error(tables["present-population"], str(truth / "presence.parquet")),
        "carry_3h": accuracy.presence_error(
            ws.run("present-population", carry=3).table, str(truth / "presence.parquet")),
    }}
    areas = ws.area_rows()
    geometries = area_geometries(areas)
    areas = [{**a, "geometry": geometries.get(a["area_id"])} for a in areas]
    report = build_report(out / "report.html", tables, areas, scores, quality,
                          k_anonymity=ws.settings.k_anonymity)
    return {"workspace": workspace, "outputs": outputs, "report": report, "accuracy": scores}
