"""Accuracy against a synthetic scenario's ground truth (for the demo and benchmarks).

Only aggregate scores leave this module: the share of people whose detected
home district matches their true one, and the error of published present
population against the true number of people per area and hour.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

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


def shock_detection(alerts: pa.Table, outbound: pa.Table, shock_json: str) -> dict:
    """Whether alerts flag the injected travel shock in its week, and the false-alarm rate elsewhere.

    The false-alarm rate is alerts outside the shock's destination and first four
    weeks, over the published weekly cells that had four earlier weeks to compare.
    """
    shock = json.loads(Path(shock_json).read_text())
    found = alerts.to_pandas()
    hit = found[(found["key"] == shock["destination_country"]) & (found["time"] == shock["week"])]
    cells = outbound.to_pandas()
    scored = int(cells["change_vs_prev_4w"].notna().sum()) if "change_vs_prev_4w" in cells else len(cells)
    shock_weeks = _weeks_from(shock["week"], 4)
    false = found[~((found["key"] == shock["destination_country"]) & found["time"].isin(shock_weeks))]
    return {
        "shock": f"{shock['destination_country']} {shock['week']}",
        "shock_week_detected": bool(len(hit)),
        "false_alarms": int(len(false)),
        "false_alarm_rate": round(len(false) / scored, 4) if scored else None,
    }


def _weeks_from(week: str, count: int) -> list[str]:
    monday = datetime.date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    weeks = []
    for i in range(count):
        year, number, _ = (monday + datetime.timedelta(weeks=i)).isocalendar()
        weeks.append(f"{year}-W{number:02d}")
    return weeks


def penetration_error(published: pa.Table, truth_csv: str) -> dict:
    """Published penetration against the true buyers ÷ adult residents, per month and region."""
    truth = pacsv.read_csv(truth_csv).to_pandas()
    truth["true_penetration"] = truth["buyers"] / truth["adult_residents"]
    merged = published.to_pandas().merge(truth, on=["month", "region_id"], suffixes=("", "_true"))
    merged = merged.dropna(subset=["penetration"])
    error = (merged["penetration"] - merged["true_penetration"]).abs()
    return {"cells_compared": int(len(merged)),
            "median_abs_error_points": round(float(error.median() * 100), 2) if len(merged) else None,
            "buyers_exact_share": round(float((merged["buyers"] == merged["buyers_true"]).mean()), 3)
            if len(merged) else None}


def tourism_error(published: pa.Table, truth_csv: str, level_of: dict[str, str] | None = None) -> dict:
    """Published visitors per date, area and visitor type against the truth (all origins summed)."""
    truth = pacsv.read_csv(truth_csv).to_pandas()
    truth["date"] = truth["date"].astype(str)
    got = published.to_pandas()
    got["date"] = got["date"].astype(str)
    keys = ["date", "area_id", "visitor_type"]
    merged = got.groupby(keys)["visitors"].sum().reset_index().merge(
        truth.groupby(keys)["visitors"].sum().reset_index(), on=keys, suffixes=("", "_true"))
    merged = merged[merged["visitors_true"] > 0]
    result = {}
    for kind, part in merged.groupby("visitor_type"):
        error = (part["visitors"] - part["visitors_true"]).abs()
        result[kind] = {"cells_compared": int(len(part)),
                        "weighted_abs_pct": round(float(error.sum() / part["visitors_true"].sum() * 100), 1)}
    return result
