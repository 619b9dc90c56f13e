"""Synthetic scenarios: every popflow input for an invented region, plus the truth.

`generate(out, people=..., days=...)` simulates a region whose `people` are its
inhabitants (the residents), the visitors who come during the period, and what
a mobile operator and two other businesses record of them. The operator's
subscribers are a subset: about 40 % of the residents, its market share varying
by district and age band between 20 % and 60 % (`market_share`), and as many of
the visitors. Everyone moves hour by hour (`whereabouts`); only phones on the
operator's network make events, sparse and bursty with quiet nights
(`phone_activity`), served by usual towers with handover ping-pong across
district borders (`serving_cells`). The truth covers everyone. It writes into `out/`:

* `areas.geojson` - a province, 3-4 cities and 24 districts tiling 60 km x 40 km,
  3-4 of them scenic (hills, lakes, old towns);
* `cells.csv` - cell towers inside the districts;
* `subscribers.csv` - the operator's subscribers: residents (migrant workers
  among them) and domestic visitors from other provinces;
* `regions.csv` - the names of the province codes subscribers are registered in;
* `events/events-YYYY-MM-DD.csv.gz` (or `.parquet`) - one file of network events
  per local day, subscribers and international roamers on the operator's network
  alike; residents make weekend and holiday trips to the scenic districts,
  visitors and roamers mostly sleep there;
* `population.csv` and `population_by_gender_age.csv` - the census of all
  residents per district, and per district, gender and age band (`census`);
* `tickets/tickets-YYYY-MM.csv.gz` - a travel seller's outbound air tickets over
  about two years up to the last day, by month of purchase, with seasons and a
  travel-advisory collapse of trips to one country;
* `fx.csv` - daily CNY rates of USD and EUR over the ticket span;
* `sales/sales-YYYY-MM.csv.gz` - a retailer's orders over the period, by month,
  its penetration differing from district to district;
* `truth/` - what the indicators should find, for everyone and for the people on
  the operator's network: `presence.parquet` (true people per district and hour),
  `trips.csv` (true trips between districts per day), `residents.csv` (true
  residents per month and district), `homes.csv` (true home and work per
  subscriber and month), `tourism.csv` and `scenic.json` (visitors and nights
  per date, district and visitor type; the scenic districts),
  `outbound_weekly.csv` and `outbound_shock.json` (trips, travellers and spend
  per ISO week and country; the shocked country and week),
  `sales_penetration.csv` (buyers, orders, revenue and adult residents per
  month and district).

Everything is deterministic for a given seed and size. Each kind of people has
its own module (`residents`, `domestic_visitors`, `roamers`) producing movement
profiles that the daily simulation treats alike; residents' trips are planned in
`excursions`. Tickets (`outbound_demand`, `tickets`, `fx`) and sales (`sales`)
are drawn from their own random streams, so adding a source changes no other;
their volumes follow `people` as before.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from popflow.progress import Steps
from popflow.synth.census import LONG_FORM_FILE, census_table, write_census
from popflow.synth.clock import Period, build_period
from popflow.synth.counting import distinct
from popflow.synth.csv_files import write_csv
from popflow.synth.daily_simulation import Simulation, World, simulate_period
from popflow.synth.domestic_visitors import DomesticVisitors, build_domestic_visitors, visitor_table
from popflow.synth.event_files import FORMATS, EventLabels
from popflow.synth.excursions import plan_excursions
from popflow.synth.fx import draw_fx, write_fx
from popflow.synth.geography import build_geography, write_areas
from popflow.synth.gravity import trip_choices
from popflow.synth.ground_truth import census_weights, write_homes, write_residents
from popflow.synth.market_share import draw_shares
from popflow.synth.outbound_demand import build_demand, load_airports
from popflow.synth.profiles import ROAMER, concat_profiles
from popflow.synth.random_streams import stream
from popflow.synth.regions import write_regions
from popflow.synth.residents import Residents, build_residents, subscriber_table
from popflow.synth.roamers import build_roamers
from popflow.synth.sales import build_market, draw_orders, write_sales, write_sales_truth
from popflow.synth.scenic import pick_scenic, write_scenic
from popflow.synth.tickets import MAX_LEAD_DAYS, draw_tickets, write_outbound_truth, write_tickets
from popflow.synth.towers import place_towers, write_cells

__all__ = ["generate", "synthesise"]

Progress = Callable[[str, float], None]
MONTHLY_FOLDERS = {"tickets": "tickets-*.csv.gz", "sales": "sales-*.csv.gz"}


@dataclass(frozen=True)
class Population:
    """The people of the scenario by kind, besides the world they move in."""

    residents: Residents
    visitors: DomesticVisitors
    scenic: np.ndarray


def _no_progress(stage: str, fraction: float) -> None:
    """Default progress sink: ignore."""


def _prepare_folders(out: Path) -> None:
    """Create the output folders and drop dated files of an earlier scenario there."""
    for folder in (out, out / "events", out / "truth", *(out / name for name in MONTHLY_FOLDERS)):
        folder.mkdir(parents=True, exist_ok=True)
    stale = [f"events/events-*{suffix}" for suffix in FORMATS.values()]
    stale += [f"{folder}/{pattern}" for folder, pattern in MONTHLY_FOLDERS.items()]
    for pattern in stale:
        for path in out.glob(pattern):
            path.unlink()


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
    """Write a synthetic scenario of `people` residents over `days` local days from `start`.

    `events_format` is "csv" (gzip CSV, local ISO 8601 timestamps) or "parquet"
    (epoch seconds). Dated files of an earlier scenario in `out/events`,
    `out/tickets` and `out/sales` are removed. `progress(stage, fraction)` is
    called as the stages "areas", "cells", "subscribers", "events" (once per
    day), "tickets", "sales" and "truth" advance. Returns counts of what was
    generated and the written files, relative to `out`.
    """
    _check_arguments(people, days, seed, events_format)
    out, report = Path(out), progress or _no_progress
    _prepare_folders(out)
    period = build_period(start, days, timezone)
    world, population = _build_world(seed, people, period, out, report)
    labels = EventLabels(world.people.ids, world.people.mcc, world.towers.ids)
    simulation = simulate_period(seed, world, out / "events", events_format, labels, report)
    travel = _write_outbound(seed, people, period, out)
    report("tickets", 1.0)
    retail = _write_sales(seed, world, population.residents, out)
    report("sales", 1.0)
    simulation.presence.write(world.geo, out / "truth" / "presence.parquet")
    simulation.trips.write(world.geo, out / "truth" / "trips.csv")
    simulation.tourism.write(world.geo, out / "truth" / "tourism.csv")
    report("truth", 1.0)
    return _summary(world, population, simulation, travel, retail, out)


def synthesise(out: Path, steps: Steps, people: int, days: int, **options) -> dict:
    """``generate`` shown as one step of ``steps``: a bar per stage, then one line with the events written."""
    with steps.step(f"synthesising {people:,} people × {days} days", total=1.0) as step:
        def advance(stage: str, done: float) -> None:
            step.update(completed=done, description=f"synthesising {stage}")

        summary = generate(out, people=people, days=days, progress=advance, **options)
        step.summary = f"synthesised {people:,} people × {days} days: {summary['events']:,} events → {out}"
    return summary


def _build_world(seed: int, people: int, period: Period, out: Path, report: Progress) -> tuple[World, Population]:
    """Draw the region, its towers and its people; write the inputs that describe them."""
    geo = build_geography(stream(seed, "geography"))
    scenic = pick_scenic(stream(seed, "scenic"), geo)
    write_areas(geo, out / "areas.geojson")
    write_scenic(geo, scenic, out / "truth" / "scenic.json")
    report("areas", 1.0)
    towers = place_towers(stream(seed, "towers"), geo, people)
    write_cells(towers, out / "cells.csv")
    report("cells", 1.0)
    choices = trip_choices(geo, scenic)
    shares = draw_shares(stream(seed, "market share"), geo)
    residents = build_residents(stream(seed, "residents"), people, period, geo, choices, shares)
    visitors = build_domestic_visitors(stream(seed, "domestic visitors"), people, period, scenic)
    roamers = build_roamers(stream(seed, "roamers"), people, period, geo, scenic)
    write_csv(pa.concat_tables([subscriber_table(residents), visitor_table(visitors)]), out / "subscribers.csv")
    write_regions(out / "regions.csv")
    write_census(residents, period, geo, out)
    write_homes(residents, period, geo, out / "truth" / "homes.csv")
    write_residents(residents, period, geo, out / "truth" / "residents.csv")
    report("subscribers", 1.0)
    everyone = concat_profiles([residents.profiles, visitors.profiles, roamers])
    trips = plan_excursions(stream(seed, "excursions"), residents.profiles, period, geo, scenic)
    weights = census_weights(residents, everyone.on_network, geo.districts)
    world = World(period, geo, towers, choices, everyone, trips, weights)
    return world, Population(residents, visitors, scenic)


def _write_outbound(seed: int, people: int, period: Period, out: Path) -> dict:
    """Write fx.csv, the monthly ticket files and the outbound truth."""
    last = period.days[-1].date
    airports = load_airports()
    demand = build_demand(stream(seed, "outbound demand"), airports, people, last)
    fx = draw_fx(stream(seed, "fx"), demand.first - datetime.timedelta(days=MAX_LEAD_DAYS), last)
    write_fx(fx, out / "fx.csv")
    tickets = draw_tickets(stream(seed, "tickets"), demand, airports, fx, people)
    files = write_tickets(stream(seed, "ticket ids"), tickets, airports, people, period.timezone, out / "tickets")
    write_outbound_truth(tickets, demand, airports, fx, out / "truth")
    return {"tickets": len(tickets), "travellers": len(distinct(tickets.traveller)), "files": files}


def _write_sales(seed: int, world: World, residents: Residents, out: Path) -> dict:
    """Write the monthly sales files and the penetration truth."""
    adults = census_table(residents, world.period, world.geo).column("adults").to_numpy()
    market = build_market(stream(seed, "market"), world.geo, adults)
    orders = draw_orders(stream(seed, "orders"), market, world.period)
    files = write_sales(stream(seed, "order ids"), orders, market, world.geo, world.period.timezone, out / "sales")
    write_sales_truth(orders, market, residents, world.period, world.geo, out / "truth" / "sales_penetration.csv")
    return {"orders": len(orders.customer), "customers": len(market.customer_district),
            "buyers": len(distinct(orders.customer)), "files": files}


def _summary(world: World, population: Population, simulation: Simulation, travel: dict, retail: dict,
             out: Path) -> dict:
    """Counts of what was generated, and the files written relative to the output folder."""
    days, residents, people = len(world.period.days), population.residents, world.people
    trips = world.excursions
    dated = [*simulation.files, *travel["files"], *retail["files"]]
    visiting_subscribers = int(population.visitors.profiles.on_network.sum())
    return {
        "people": len(people),
        "residents": len(residents),
        "subscribers": int(residents.subscriber.sum()) + visiting_subscribers,
        "resident_subscribers": int(residents.subscriber.sum()),
        "migrants": int(residents.migrant.sum()),
        "movers": int((residents.profiles.move_day < days).sum()),
        "domestic_visitors": len(population.visitors),
        "visiting_subscribers": visiting_subscribers,
        "international_visitors": int((people.kind == ROAMER).sum()),
        "roamers": int(((people.kind == ROAMER) & people.on_network).sum()),
        "resident_overnight_trips": int((trips.nights > 0).sum()),
        "resident_sameday_trips": int((trips.nights == 0).sum()),
        "scenic_districts": len(population.scenic),
        "events": simulation.events,
        "cells": len(world.towers),
        "areas": world.geo.districts + len(world.geo.city_ids) + 1,
        "districts": world.geo.districts,
        "days": days,
        "tickets": travel["tickets"],
        "travellers": travel["travellers"],
        "customers": retail["customers"],
        "buyers": retail["buyers"],
        "orders": retail["orders"],
        "files": ["areas.geojson", "cells.csv", "subscribers.csv", "regions.csv", "population.csv", LONG_FORM_FILE,
                  "fx.csv",
                  *(str(path.relative_to(out)) for path in dated),
                  "truth/homes.csv", "truth/residents.csv", "truth/presence.parquet", "truth/trips.csv",
                  "truth/tourism.csv", "truth/scenic.json",
                  "truth/outbound_weekly.csv", "truth/outbound_shock.json", "truth/sales_penetration.csv"],
    }
