"""Accuracy against a synthetic scenario's ground truth (for the demo and benchmarks).

Only aggregate scores leave this module: the share of people whose detected
home district matches their true one, and the error of published present
population against the true number of people per area and hour.
"""

from __future__ import annotations

import datetime

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from popflow.engines import open_engine
from popflow.indicators.blocks import home_ctes, with_query
from popflow.indicators.params import Homes
from popflow.pseudonymise import Pseudonymiser, load_key
from popflow.release_inputs import prepare_inputs


def home_accuracy(ws, truth_homes: str, min_nights: int = 3) -> dict:
    """Share of people with a detected home whose home district is the true one, all months pooled."""
    truth = pacsv.read_csv(truth_homes, convert_options=pacsv.ConvertOptions(
        column_types={"subscriber_id": pa.string(), "month": pa.string(), "home_area_id": pa.string()},
        include_columns=["subscriber_id", "month", "home_area_id"]))
    person = Pseudonymiser(load_key(ws.path)).column(truth["subscriber_id"])
    truth = pa.table({"person": person, "period": truth["month"], "true_area": truth["home_area_id"]})
    engine = open_engine("duckdb", ws)
    try:
        prepare_inputs(engine, ws, Homes(), ws.area_rows(), ws.settings)
        engine.register("truth", truth)
        row = engine.table(with_query(home_ctes(min_nights), """
            SELECT count(*) AS detected, count(*) FILTER (WHERE h.area_id = t.true_area) AS correct,
                   (SELECT count(*) FROM truth) AS true_homes
            FROM home h JOIN truth t ON t.person = h.person AND t.period = h.period""")).to_pylist()[0]
    finally:
        engine.close()
    return {
        "home_accuracy": round(row["correct"] / row["detected"], 4) if row["detected"] else None,
        "person_months_with_detected_home": row["detected"],
        "person_months_in_truth": row["true_homes"],
        "home_detection_rate": round(row["detected"] / row["true_homes"], 4) if row["true_homes"] else None,
    }


def presence_error(published: pa.Table, truth_presence: str) -> dict:
    """Error of published people per area-hour against the truth, over published cells.

    ``median_abs_pct``: median of |published − true| / true; ``weighted_abs_pct``:
    Σ|published − true| / Σ true; ``coverage``: Σ published / Σ true.
    """
    truth = pq.read_table(truth_presence).to_pandas()
    got = published.to_pandas()
    merged = got.merge(truth, on=["time", "area_id"], suffixes=("", "_true"))
    merged = merged[merged["people_true"] > 0]
    error = (merged["people"] - merged["people_true"]).abs()
    return {
        "cells_compared": int(len(merged)),
        "median_abs_pct": round(float((error / merged["people_true"]).median() * 100), 1),
        "weighted_abs_pct": round(float(error.sum() / merged["people_true"].sum() * 100), 1),
        "coverage_pct": round(float(merged["people"].sum() / merged["people_true"].sum() * 100), 1),
    }


def window_of(truth_presence: str) -> tuple[datetime.date, datetime.date]:
    """First and last local date of a truth presence table."""
    times = pq.read_table(truth_presence, columns=["time"]).column("time").to_pandas()
    return times.min().date(), times.max().date()
