"""The census table: total rows and long-form class rows, as ingested and as the estimates read them."""

from __future__ import annotations

from popflow.engines import open_engine
from popflow.indicators.params import Binned
from popflow.release_inputs import prepare_inputs

import scenario

CENSUS = """area_id,population,gender,age_band
A,2400,,
B,700,F,20-24
B,600,M,20-24
B,650,F,80+
C,500,F,<15
C,800,M,30-34
"""


def census_of(ws) -> dict[str, int]:
    """The ``census`` relation a release reads: population per area."""
    engine = open_engine("duckdb", ws)
    try:
        prepare_inputs(engine, ws, Binned(), ws.area_rows(), ws.settings)
        return {r["area_id"]: r["population"] for r in engine.table("SELECT * FROM census").to_pylist()}
    finally:
        engine.close()


def test_long_form_rows_are_checked_and_summed(tmp_path):
    ws = scenario.workspace(tmp_path, scenario.random_events(n_people=20, days=3, per_day=5))
    (tmp_path / "census.csv").write_text(CENSUS + "C,10,X,20-24\nC,10,F,\nC,10,F,20-25\nB,99,F,20-24\n")
    ws.ingest("population", [tmp_path / "census.csv"])
    bad = scenario.quarantined(ws, "population")
    assert bad.loc[8, "reason"] == "invalid_value" and bad.loc[8, "column"] == "gender"
    assert bad.loc[9, "reason"] == "missing_field" and bad.loc[9, "column"] == "age_band"
    assert bad.loc[10, "reason"] == "invalid_value" and bad.loc[10, "column"] == "age_band"
    assert bad.loc[11, "reason"] == "duplicate_key"
    assert census_of(ws) == {"A": 2400, "B": 1950, "C": 1300}


def test_a_total_row_is_a_duplicate_of_the_same_total_in_the_lake(tmp_path):
    ws = scenario.workspace(tmp_path, scenario.random_events(n_people=20, days=3, per_day=5))
    (tmp_path / "census.csv").write_text(CENSUS)
    ws.ingest("population", [tmp_path / "census.csv"])
    (tmp_path / "again.csv").write_text("area_id,population\nA,2500\nC,1400\n")
    ws.ingest("population", [tmp_path / "again.csv"])
    bad = scenario.quarantined(ws, "population")
    assert list(bad["reason"]) == ["duplicate_key"] and list(bad.index) == [2]
    assert census_of(ws) == {"A": 2400, "B": 1950, "C": 1400}  # C's total row wins over its classes
