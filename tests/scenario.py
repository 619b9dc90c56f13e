"""Small hand-made inputs for tests: three districts in two cities of one province."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

import popflow

TIMEZONE = "Asia/Shanghai"


def square(x0: float, y0: float, size: float = 1.0) -> dict:
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


AREAS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"area_id": "P", "name": "Province", "level": "province"}, "geometry": None},
    {"type": "Feature", "properties": {"area_id": "X", "name": "Xcity", "parent_id": "P", "level": "city"},
     "geometry": None},
    {"type": "Feature", "properties": {"area_id": "Y", "name": "Ycity", "parent_id": "P", "level": "city"},
     "geometry": None},
    {"type": "Feature", "properties": {"area_id": "A", "name": "Adistrict", "parent_id": "X", "level": "district"},
     "geometry": square(0, 0)},
    {"type": "Feature", "properties": {"area_id": "B", "name": "Bdistrict", "parent_id": "X", "level": "district"},
     "geometry": square(1, 0)},
    {"type": "Feature", "properties": {"area_id": "C", "name": "Cdistrict", "parent_id": "Y", "level": "district"},
     "geometry": square(2, 0)},
]}

CELLS = pd.DataFrame({
    "cell_id": ["a1", "a2", "b1", "c1"],
    "latitude": [0.5, 0.2, 0.5, 0.5],
    "longitude": [0.5, 0.7, 1.5, 2.5],
})
CELL_AREA = {"a1": "A", "a2": "A", "b1": "B", "c1": "C"}
LEVELS = {"district": {"A": "A", "B": "B", "C": "C"}, "city": {"A": "X", "B": "X", "C": "Y"},
          "province": {"A": "P", "B": "P", "C": "P"}}


def phone(i: int) -> str:
    return f"+8613900{i:06d}"


def subscribers(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "subscriber_id": [phone(i) for i in range(n)],
        "gender": rng.choice(["F", "M"], n),
        "birth_year": rng.integers(1940, 2012, n),
        "origin_region": rng.choice(["440000", "510000"], n, p=[0.7, 0.3]),
    })


def random_events(n_people: int, days: int, per_day: int, seed: int = 0,
                  start: str = "2026-01-20") -> pd.DataFrame:
    """Random events; times in UTC ('Z') so local hours differ from UTC ones."""
    rng = np.random.default_rng(seed)
    n = n_people * days * per_day
    base = pd.Timestamp(start, tz="UTC")
    seconds = rng.integers(0, days * 86400, n)
    people = rng.integers(0, n_people, n)
    # Each person leans to one "home" cell so homes are detectable.
    cells = np.array(list(CELL_AREA))
    lean = rng.integers(0, len(cells), n_people)
    # Every fifth person moves their lean halfway through; every seventh arrives then.
    halfway = seconds >= days * 86400 // 2
    moved = np.where((people % 5 == 0) & halfway, (lean[people] + 1) % len(cells), lean[people])
    pick = np.where(rng.random(n) < 0.6, moved, rng.integers(0, len(cells), n))
    keep = ~((people % 7 == 3) & ~halfway)
    people, pick, seconds = people[keep], pick[keep], seconds[keep]
    times = base + pd.to_timedelta(seconds, unit="s")
    return pd.DataFrame({
        "subscriber_id": [phone(p) for p in people],
        "timestamp": times.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cell_id": cells[pick],
    })


def write_inputs(folder: Path, events: pd.DataFrame, subs: pd.DataFrame | None = None,
                 population: pd.DataFrame | None = None) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"areas": folder / "areas.geojson", "cells": folder / "cells.csv", "events": folder / "events.csv"}
    paths["areas"].write_text(json.dumps(AREAS))
    CELLS.to_csv(paths["cells"], index=False)
    events.to_csv(paths["events"], index=False)
    if subs is not None:
        paths["subscribers"] = folder / "subscribers.csv"
        subs.to_csv(paths["subscribers"], index=False)
    if population is not None:
        paths["population"] = folder / "population.csv"
        population.to_csv(paths["population"], index=False)
    return paths


def workspace(folder: Path, events: pd.DataFrame, subs: pd.DataFrame | None = None, k: int = 2,
              population: pd.DataFrame | None = None, timezone: str = TIMEZONE) -> popflow.Workspace:
    """A workspace with the three districts, four cells and the given events ingested."""
    paths = write_inputs(folder / "inputs", events, subs, population)
    ws = popflow.Workspace.init(folder / "ws", timezone=timezone, home_mcc=("460",), k=k)
    for source in ("areas", "cells", "subscribers", "population", "events"):
        if source in paths:
            ws.ingest(source, [paths[source]])
    return ws


def workspace_without_events(folder: Path, people: int = 40) -> popflow.Workspace:
    """A workspace (k=2, TIMEZONE) with the areas, cells and ``people`` subscribers, and no events yet."""
    paths = write_inputs(folder / "inputs", pd.DataFrame(columns=["subscriber_id", "timestamp", "cell_id"]),
                         subscribers(people))
    ws = popflow.Workspace.init(folder / "ws", timezone=TIMEZONE, k=2)
    for source in ("areas", "cells", "subscribers"):
        ws.ingest(source, [paths[source]])
    return ws


DESTINATIONS = {"BKK": "TH", "NRT": "JP", "ICN": "KR", "SIN": "SG"}


def traveller(i: int) -> str:
    return f"TRV{i:09d}"


def customer(i: int) -> str:
    return f"CUS{i:09d}"


def random_tickets(n_travellers: int, weeks: int, per_week: int, seed: int = 0,
                   start: str = "2025-12-01") -> pd.DataFrame:
    """Tickets departing over `weeks` weeks; some in USD; cabins mostly economy."""
    rng = np.random.default_rng(seed)
    n = weeks * per_week
    departs = pd.Timestamp(start, tz=TIMEZONE) + pd.to_timedelta(rng.integers(0, weeks * 7 * 86400, n), unit="s")
    bought = departs - pd.to_timedelta(rng.integers(1, 60, n), unit="D")
    airports = np.array(list(DESTINATIONS))
    dest = airports[rng.integers(0, len(airports), n)]
    return pd.DataFrame({
        "ticket_id": [f"TK{i:07d}" for i in range(n)],
        "traveller_id": [traveller(i) for i in rng.integers(0, n_travellers, n)],
        "purchased_at": bought.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
        "departs_at": departs.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
        "origin": "CAN", "destination": dest, "destination_country": [DESTINATIONS[d] for d in dest],
        "fare": rng.gamma(4, 500, n).round(2),
        "currency": np.where(rng.random(n) < 0.2, "USD", "CNY"),
        "cabin": rng.choice(["economy", "premium", "business", "first"], n, p=[0.8, 0.1, 0.08, 0.02]),
        "channel": "online",
    })


def random_sales(n_customers: int, days: int, per_day: int, seed: int = 0, start: str = "2026-01-20") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * per_day
    ordered = pd.Timestamp(start, tz=TIMEZONE) + pd.to_timedelta(rng.integers(0, days * 86400, n), unit="s")
    return pd.DataFrame({
        "order_id": [f"OR{i:07d}" for i in range(n)],
        "customer_id": [customer(i) for i in rng.integers(0, n_customers, n)],
        "ordered_at": ordered.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
        "region_id": rng.choice(["A", "B", "C"], n, p=[0.5, 0.3, 0.2]),
        "category": rng.choice(["food", "tech"], n),
        "amount": rng.gamma(2, 40, n).round(2),
        "currency": "CNY",
        "channel": rng.choice(["online", "offline"], n),
    })


def fx_rates(first: str, last: str) -> pd.DataFrame:
    days = pd.date_range(first, last, freq="D").strftime("%Y-%m-%d")
    return pd.concat([pd.DataFrame({"date": days, "currency": "CNY", "rate_to_base": 1.0}),
                      pd.DataFrame({"date": days, "currency": "USD", "rate_to_base": 7.0})])


def ingest_frames(ws: popflow.Workspace, folder: Path, **frames: pd.DataFrame) -> None:
    """Write each frame as CSV and ingest it as the source of that name."""
    folder.mkdir(parents=True, exist_ok=True)
    for source, frame in frames.items():
        path = folder / f"{source}.csv"
        frame.to_csv(path, index=False)
        ws.ingest(source, [path])


def quarantined(ws: popflow.Workspace, source: str) -> pd.DataFrame:
    """The quarantined rows of a source, by input line."""
    files = [str(f) for f in ws.lake.quarantine_files(source)]
    return duckdb.sql(f"SELECT * FROM read_parquet({files}) ORDER BY line").df().set_index("line")
