"""``popflow demo``: synthetic region → workspace → every indicator → report, in one go."""

from __future__ import annotations

import datetime
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

from popflow import accuracy, indicators, synth
from popflow.geography import area_geometries
from popflow.ingest.registry import ingest_order
from popflow.place_names import region_names
from popflow.plan import Plan
from popflow.progress import QUIET, Steps
from popflow.report import build_report
from popflow.workspace import Workspace

# The demo covers whole calendar months from January 2026 (default two: January and February), so that
# every month's homes are detected over the whole month and migrant workers arriving during the period
# show up as February arrivals, not as people whose January home was missed.
START = datetime.date(2026, 1, 1)
# The live replay: two working days from a Monday.
LIVE_START = datetime.date(2026, 1, 19)
# What the live engine reads besides the events it is streamed: geography, subscriber register and census.
LIVE_SOURCES = ("areas", "cells", "subscribers", "regions", "population")

# (report table, indicator, output file, parameters): every indicator, each released under k-anonymity.
RELEASES = (
    ("present-population", "present-population", "present-population.parquet", {}),
    (None, "present-population", "present-population-city-by-age.csv", {"level": "city", "by": "age_band"}),
    ("residents", "residents", "residents.geojson", {}),
    (None, "residents", "residents-by-gender.csv", {"by": "gender"}),
    ("workers", "workers", "workers.csv", {}),
    ("od-flows", "od-flows", "od-flows.csv", {}),
    ("migration", "migration", "migration.csv", {"level": "city"}),
    ("tourism", "tourism", "tourism.csv", {}),
    ("outbound-travel", "outbound-travel", "outbound-travel.csv", {}),
    (None, "outbound-travel", "outbound-travel-high-spenders.csv", {"rank": "spend"}),
    ("sales-penetration", "sales-penetration", "sales-penetration.geojson", {"rank": "opportunity"}),
    ("alerts", "alerts", "alerts-outbound.csv", {"indicator": "outbound-travel", "measure": "trips"}),
)


def demo_releases() -> tuple[tuple[str | None, str, str, dict], ...]:
    """``RELEASES``, then every other registered indicator (a plug-in's) with its defaults, into the report."""
    named = {name for _, name, _, _ in RELEASES}
    others = (i.name for i in indicators.all_indicators() if i.name not in named)
    return (*RELEASES, *((name, name, f"{name}.csv", {}) for name in others))


def _inputs_of(inputs: Path, source: str) -> list[Path]:
    """A source's files or folder in a synthetic scenario (``population.csv`` and ``population_by_….csv``)."""
    folder = inputs / source
    return [folder] if folder.is_dir() else sorted([*inputs.glob(f"{source}.*"), *inputs.glob(f"{source}_by_*")])


def ingest_scenario(ws: Workspace, inputs: Path, sources: tuple[str, ...] | None = None,
                    steps: Steps = QUIET) -> list[dict]:
    """Ingest the inputs a synthetic scenario holds of ``sources`` (default: every registered source), in
    dependency order (``registry.ingest_order``); returns the quality reports."""
    return [ws.ingest(source, _inputs_of(inputs, source), steps=steps)
            for source in ingest_order() if (sources is None or source in sources) and _inputs_of(inputs, source)]


def whole_months(first: datetime.date, months: int) -> int:
    """Days from ``first`` (a month's first day) to the end of the ``months``-th calendar month."""
    month = first.month - 1 + months
    end = datetime.date(first.year + month // 12, month % 12 + 1, 1)
    return (end - first).days


def run_demo(out: Path, people: int = 12_000, months: int = 2, seed: int = 1, steps: Steps = QUIET) -> dict:
    """Build the demo under ``out``: ``months`` whole calendar months from ``START``.

    Returns paths, accuracy figures and ``releases``, the releases in the order they were made.
    """
    if out.exists():
        shutil.rmtree(out)
    inputs, workspace, outputs = out / "inputs", out / "workspace", out / "outputs"
    days = whole_months(START, months)
    synth.synthesise(inputs, steps, people=people, days=days, seed=seed, start=START)
    ws = Workspace.init(workspace, timezone="Asia/Shanghai", home_mcc=("460",), k=15)
    outputs.mkdir(parents=True)
    quality = ingest_scenario(ws, inputs, steps=steps)
    tables, planned = {}, demo_releases()
    plan = Plan.from_dict({"output": str(outputs), "release": [
        {"run": name, "name": Path(filename).stem, "format": Path(filename).suffix[1:], **params}
        for _, name, filename, params in planned]})
    with steps.step("releases (one package)", total=len(planned)) as step:
        done = iter(range(1, len(planned) + 1))

        def published(_, release) -> None:
            count = next(done)
            step.update(completed=count, description=f"release {count}/{len(planned)}: {release.manifest['indicator']}")

        releases = ws.publish(plan, done=published)
        for (table_name, name, _, _), release in zip(planned, releases, strict=True):
            if table_name:
                tables[table_name] = release.table
                tables.update({t: v for t, v in release.tables.items() if t != name})
        step.summary = f"{len(releases)} releases published in {outputs}, as one package"
    with steps.step("accuracy and report") as step:
        scores = _accuracy(ws, inputs / "truth", tables)
        areas = ws.area_rows()
        geometries = area_geometries(areas)
        areas = [{**a, "geometry": geometries.get(a["area_id"])} for a in areas]
        report = build_report(out / "report.html", tables, areas, scores, quality,
                              k_anonymity=ws.settings.k_anonymity, regions=region_names(ws.connect()))
        step.summary = f"accuracy scored and report written: {report}"
    return {"workspace": workspace, "outputs": outputs, "report": report, "accuracy": scores, "releases": releases}


def _accuracy(ws: Workspace, truth: Path, tables: dict) -> dict:
    """Accuracy of the releases against the scenario's ground truth (aggregate scores only)."""
    presence = str(truth / "presence.parquet")
    published = tables["present-population"]
    scores = {**accuracy.home_accuracy(ws, str(truth / "homes.csv")), "presence_error": {
        "vs_everyone": accuracy.presence_error(published, presence),
        "vs_subscribers": accuracy.presence_error(published, presence, truth_column="subscribers"),
    }}
    if "estimate" in published.column_names:
        scores["presence_error"]["estimate_vs_everyone"] = accuracy.presence_error(published, presence, "estimate")
        scores["presence_error"]["interval_coverage"] = accuracy.interval_coverage(
            published, pq.read_table(presence).to_pandas(), ["time", "area_id"], "people")
    if (truth / "outbound_shock.json").exists():
        scores["outbound"] = accuracy.shock_detection(tables["alerts"], tables["outbound-travel"],
                                                      str(truth / "outbound_shock.json"))
    if (truth / "sales_penetration.csv").exists():
        scores["retail"] = accuracy.penetration_error(tables["sales-penetration"],
                                                      str(truth / "sales_penetration.csv"))
    if (truth / "trips.csv").exists():
        scores["od_flows"] = accuracy.trip_scores(tables["od-flows"], str(truth / "trips.csv"))
    if (truth / "tourism.csv").exists():
        scores["tourism"] = accuracy.tourism_error(tables["tourism"], str(truth / "tourism.csv"))
    return scores


def run_live_demo(out: Path, people: int = 5_000, days: int = 2, seed: int = 1, speedup: float = 3600.0,
                  port: int = 8000, say: Callable[[str], None] = print, seconds: float | None = None) -> dict:
    """Replay a synthetic region into a live stream and serve the dashboard's Live page.

    A fresh workspace gets areas, cells and subscribers; a stream reads a landing
    directory while the replay writes the region's events into it at
    ``speedup`` event seconds per second. Runs until Ctrl-C, or ``seconds``.
    """
    import threading

    from popflow.live import replay
    from popflow.live.options import LiveOptions
    from popflow.live.replay import ReplayClock
    from popflow.live.stream import run_stream
    from popflow.service.app import create_app
    from popflow.service.background import running
    from popflow.service.config import ServiceConfig
    from popflow.service.tokens import TokenStore

    if out.exists():
        shutil.rmtree(out)
    inputs, landing = out / "inputs", out / "landing"
    synth.generate(inputs, people=people, days=days, seed=seed, start=LIVE_START)
    ws = Workspace.init(out / "workspace", timezone="Asia/Shanghai", home_mcc=("460",), k=15)
    ingest_scenario(ws, inputs, LIVE_SOURCES)
    landing.mkdir()
    stop, clock = threading.Event(), ReplayClock(speedup)
    threads = [
        threading.Thread(target=run_stream, args=(ws, f"dir:{landing}", LiveOptions(checkpoint_every=2.0), stop),
                         daemon=True),
        threading.Thread(target=replay, args=(inputs, f"dir:{landing}", speedup),
                         kwargs={"stop": stop, "clock": clock}, daemon=True),
    ]
    for thread in threads:
        thread.start()
    raw, _ = TokenStore(ws.path).create("live-demo", "viewer")
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        with running(create_app(ws, ServiceConfig(event_clock=clock)), port=port) as url:
            say(f"live view: {url}/#live  (sign in with the token {raw}); Ctrl-C to stop")
            while not stop.wait(0.5) and (deadline is None or time.monotonic() < deadline):
                pass
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    return {"workspace": ws.path, "landing": landing}
