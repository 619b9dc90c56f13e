"""Synthetic scenarios: every popflow input for an invented region, plus the truth.

`generate(out, people=..., days=...)` writes into `out/`:

* `areas.geojson` - a province, 3-4 cities and 24 districts tiling 60 km x 40 km;
* `cells.csv` - cell towers inside the districts;
* `subscribers.csv` - the operator's subscribers (residents and migrant workers);
* `events/events-YYYY-MM-DD.csv.gz` (or `.parquet`) - one file of network events
  per local day, subscribers and international roamers alike;
* `population.csv` - a census table scaled from the subscribers by market share;
* `truth/homes.csv` and `truth/presence.parquet` - where each subscriber truly
  lives and works per month, and how many people truly are in each district
  each hour.

Everything is deterministic for a given seed and size. Each kind of people has
its own module (`residents`, `roamers`) producing movement profiles that the
daily simulation treats alike; new sources plug in the same way.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

from popflow.synth.census import write_census
from popflow.synth.clock import Period, build_period
from popflow.synth.csv_files import write_csv
from popflow.synth.daily_simulation import World, simulate_period
from popflow.synth.event_files import FORMATS, EventLabels
from popflow.synth.geography import build_geography, write_areas
from popflow.synth.gravity import trip_choices
from popflow.synth.ground_truth import write_homes
from popflow.synth.profiles import concat_profiles
from popflow.synth.random_streams import stream
from popflow.synth.residents import Subscribers, build_subscribers, subscriber_table
from popflow.synth.roamers import build_roamers
from popflow.synth.towers import place_towers, write_cells

__all__ = ["generate"]

Progress = Callable[[str, float], None]


def _no_progress(stage: str, fraction: float) -> None:
    """Default progress sink: ignore."""


def _prepare_folders(out: Path) -> None:
    """Create the output folders and drop event files of an earlier scenario there."""
    for folder in (out, out / "events", out / "truth"):
        folder.mkdir(parents=True, exist_ok=True)
    for suffix in FORMATS.values():
        for stale in (out / "events").glob(f"events-*{suffix}"):
            stale.unlink()


def _check_arguments(people: int, days: int, seed: int, events_format: str) -> None:
    if people < 1:
        raise ValueError("people must be at least 1")
    if days < 1:
        raise ValueError("days must be at least 1")
    if seed < 0:
        raise ValueError("seed must not be negative")
    if events_format not in FORMATS:
        raise ValueError(f"events_format must be one of {sorted(FORMATS)}, not {events_format!r}")


def generate(
    out: Path,
    people: int = 20_000,
    days: int = 35,
    seed: int = 0,
    start: datetime.date = datetime.date(2026, 1, 5),
    timezone: str = "Asia/Shanghai",
    events_format: str = "csv",
    progress: Progress | None = None,
) -> dict:
    """Write a synthetic scenario of `people` subscribers over `days` local days from `start`.

    `events_format` is "csv" (gzip CSV, local ISO 8601 timestamps) or "parquet"
    (epoch seconds). Event files of an earlier scenario in `out/events` are removed.
    `progress(stage, fraction)` is called as the stages "areas", "cells",
    "subscribers", "events" (once per day) and "truth" advance. Returns counts of
    what was generated and the written files, relative to `out`.
    """
    _check_arguments(people, days, seed, events_format)
    out, report = Path(out), progress or _no_progress
    _prepare_folders(out)
    period = build_period(start, days, timezone)
    world, subscribers = _build_world(seed, people, period, out, report)
    labels = EventLabels(world.people.ids, world.people.mcc, world.towers.ids)
    events, presence, event_files = simulate_period(
        seed, world, out / "events", events_format, labels, report
    )
    presence.write(world.geo, out / "truth" / "presence.parquet")
    report("truth", 1.0)
    return _summary(world, subscribers, events, event_files)


def _build_world(
    seed: int, people: int, period: Period, out: Path, report: Progress
) -> tuple[World, Subscribers]:
    """Draw the region, its towers and its people; write the inputs that describe them."""
    geo = build_geography(stream(seed, "geography"))
    write_areas(geo, out / "areas.geojson")
    report("areas", 1.0)
    towers = place_towers(stream(seed, "towers"), geo, people)
    write_cells(towers, out / "cells.csv")
    report("cells", 1.0)
    choices = trip_choices(geo)
    subscribers = build_subscribers(stream(seed, "subscribers"), people, period, geo, choices)
    roamers = build_roamers(stream(seed, "roamers"), people, period, geo)
    write_csv(subscriber_table(subscribers), out / "subscribers.csv")
    write_census(subscribers, period, geo, out / "population.csv")
    write_homes(subscribers, period, geo, out / "truth" / "homes.csv")
    report("subscribers", 1.0)
    everyone = concat_profiles([subscribers.profiles, roamers])
    return World(period, geo, towers, choices, everyone), subscribers


def _summary(world: World, subscribers: Subscribers, events: int, event_files: list) -> dict:
    """Counts of what was generated, and the files written relative to the output folder."""
    days = len(world.period.days)
    return {
        "people": len(world.people),
        "subscribers": len(subscribers),
        "migrants": int(subscribers.migrant.sum()),
        "movers": int((subscribers.profiles.move_day < days).sum()),
        "roamers": len(world.people) - len(subscribers),
        "events": events,
        "cells": len(world.towers),
        "areas": world.geo.districts + len(world.geo.city_ids) + 1,
        "districts": world.geo.districts,
        "days": days,
        "files": ["areas.geojson", "cells.csv", "subscribers.csv", "population.csv",
                  *(f"events/{path.name}" for path in event_files),
                  "truth/homes.csv", "truth/presence.parquet"],
    }
