"""Area options: an H3 grid instead of polygons, census scaling of residents, level checks."""

from __future__ import annotations

import json

import h3
import pandas as pd

import popflow

import scenario


def test_h3_grid_areas(tmp_path):
    events = scenario.random_events(n_people=30, days=2, per_day=8)
    paths = scenario.write_inputs(tmp_path / "in", events)
    ws = popflow.Workspace.init(tmp_path / "ws", timezone=scenario.TIMEZONE, k=2)
    report = ws.ingest("areas", h3=7)
    assert report["grid"] == "H3 resolution 7" and ws.h3_resolution() == 7
    ws.ingest("cells", [paths["cells"]])
    ws.ingest("events", [paths["events"]])
    out = tmp_path / "presence.geojson"
    release = ws.run("present-population", out=out)
    expected = {h3.latlng_to_cell(lat, lon, 7) for lat, lon in zip(scenario.CELLS["latitude"],
                                                                     scenario.CELLS["longitude"], strict=True)}
    assert set(release.to_pandas()["area_id"]) <= expected and len(release.table) > 0
    feature = json.loads(out.read_text())["features"][0]
    assert feature["geometry"]["type"] == "Polygon"


def test_residents_estimate_scales_published_cells_to_census(tmp_path):
    population = pd.DataFrame({"area_id": ["A", "B", "C"], "population": [1000, 2000, 3000]})
    events = scenario.random_events(n_people=60, days=10, per_day=10)
    ws = scenario.workspace(tmp_path, events, scenario.subscribers(60), k=2, population=population)
    df = ws.run("residents", by="gender").to_pandas()
    per_area = df.groupby(["period", "area_id"])["estimate"].sum().round().reset_index()
    census = population.set_index("area_id")["population"]
    assert (per_area["estimate"] == per_area["area_id"].map(census)).all()
    city = ws.run("residents", level="city").to_pandas().set_index("area_id")["estimate"]
    assert round(city["X"]) == 3000 and round(city["Y"]) == 3000  # X = A + B from the finest areas


def test_without_population_there_is_no_estimate(tmp_path):
    ws = scenario.workspace(tmp_path, scenario.random_events(20, 5, 8), k=2)
    assert "estimate" not in ws.run("residents").table.column_names
