"""Accuracy against a synthetic scenario's ground truth (for the demo and benchmarks).

Only aggregate scores leave this module: shares of people whose detected home
is right, and errors of published tables (present population, trips, visitors,
penetration, alerts) against the true numbers per released cell. The weighted
absolute error of a set of cells is Σ|published − true| ÷ Σ true, in percent.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from popflow.engines import open_engine
from popflow.indicators.blocks import home_ctes, with_query
from popflow.indicators.estimates import ESTIMATE_HIGH, ESTIMATE_LOW
from popflow.indicators.params import Homes
from popflow.pseudonymise import Pseudonymiser, load_key
from popflow.release_inputs import prepare_inputs

# What each score means, in one line, by its key path (the longest listed prefix of a score's path applies).
MEANINGS = {
    ("home_accuracy",): "share of detected homes in the person's true district",
    ("person_months_with_detected_home",): "subscriber-months given a home",
    ("person_months_in_truth",): "subscriber-months living in the region, in truth",
    ("home_detection_rate",): "share of subscriber-months living in the region that get a home",
    ("presence_error", "vs_everyone"): "count of phones against everyone truly present: how far a count of "
                                       "subscribers is from a count of people (do not read counts as people)",
    ("presence_error", "vs_subscribers"): "count of phones against the subscribers truly present: the error of "
                                          "placing phones (silence, towers across a border)",
    ("presence_error", "estimate_vs_everyone"): "estimate against everyone truly present: the figure to read "
                                                "as people present",
    ("presence_error", "interval_coverage"): "share of area-hours whose 90 % interval holds the true number of "
                                             "people (about 90 % when the intervals are right)",
    ("od_flows",): "published trips against the true trips of the same subscribers, per date and OD pair",
    ("tourism",): "published visitors against the true visitors, per date, area and visitor type",
    ("outbound",): "whether alerts flag the injected collapse of travel to one country, and false alarms",
    ("retail",): "published penetration against true buyers ÷ adult residents, per month and region",
}
STATISTICS = {  # the last key of a score's path, when it names a statistic
    "weighted_abs_pct": "Σ|published − true| ÷ Σ true, %",
    "median_abs_pct": "median of |published − true| ÷ true, %",
    "coverage_pct": "Σ published ÷ Σ true, %",
    "cells_compared": "published cells with a true value",
    "total_ratio": "Σ published ÷ Σ true",
    "spearman": "rank correlation of published and true",
}


def meaning(path: tuple[str, ...]) -> str:
    """The one-line meaning of a score's key path, with its statistic's definition."""
    prefixes = [path[:n] for n in range(len(path), 0, -1)]
    what = next((MEANINGS[p] for p in prefixes if p in MEANINGS), "")
    statistic = STATISTICS.get(path[-1])
    return f"{what} ({statistic})" if what and statistic else what or statistic or ""


def home_accuracy(ws, truth_homes: str, min_nights: int = 3, seen_nights: int = 10) -> dict:
    """Detected homes against the true ones, over the person-months of the truth (all months pooled).

    ``home_accuracy``: share of person-months with a detected home whose home
    district is the true one; ``home_detection_rate``: share of the truth's
    person-months with a detected home; ``home_detection_rate_seen_10_nights``:
    the same among person-months with a night location on at least
    ``seen_nights`` nights (a person seen that often should get a home).
    """
    engine = open_engine("duckdb", ws)
    try:
        prepare_inputs(engine, ws, Homes(), ws.area_rows(), ws.settings)
        engine.register("truth", _pseudonymised_homes(ws, truth_homes))
        row = engine.table(with_query([*home_ctes(min_nights), ("seen", _SEEN_NIGHTS_SQL)], f"""
            SELECT count(h.person) AS detected, count(*) FILTER (WHERE h.area_id = t.true_area) AS correct,
                   count(*) AS true_homes, count(*) FILTER (WHERE s.nights >= {seen_nights}) AS seen,
                   count(h.person) FILTER (WHERE s.nights >= {seen_nights}) AS seen_detected
            FROM truth t LEFT JOIN home h ON h.person = t.person AND h.period = t.period
            LEFT JOIN seen s ON s.person = t.person AND s.period = t.period""")).to_pylist()[0]
    finally:
        engine.close()
    return {
        "home_accuracy": _share(row["correct"], row["detected"]),
        "person_months_with_detected_home": row["detected"],
        "person_months_in_truth": row["true_homes"],
        "home_detection_rate": _share(row["detected"], row["true_homes"]),
        f"home_detection_rate_seen_{seen_nights}_nights": _share(row["seen_detected"], row["seen"]),
    }


_SEEN_NIGHTS_SQL = """
    SELECT n.person, c.period, count(*) AS nights
    FROM night_locations n JOIN calendar c ON c.day = n.slot GROUP BY n.person, c.period
"""


def _pseudonymised_homes(ws, truth_homes: str) -> pa.Table:
    """The truth's person-months (pseudonymised like the lake) and their true home district."""
    truth = pacsv.read_csv(truth_homes, convert_options=pacsv.ConvertOptions(
        column_types={"subscriber_id": pa.string(), "month": pa.string(), "home_area_id": pa.string()},
        include_columns=["subscriber_id", "month", "home_area_id"]))
    person = Pseudonymiser(load_key(ws.path)).column(truth["subscriber_id"])
    return pa.table({"person": person, "period": truth["month"], "true_area": truth["home_area_id"]})


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def weighted_error(published: pd.Series, true: pd.Series) -> float | None:
    """Σ|published − true| ÷ Σ true, in percent (None when the truth sums to 0)."""
    total = float(true.sum())
    return round(float((published - true).abs().sum()) / total * 100, 1) if total else None


def compared_cells(published: pa.Table, truth: pd.DataFrame, keys: list[str], column: str,
                   truth_column: str) -> pd.DataFrame:
    """``published`` and ``true`` per released cell (``keys``) that the truth also holds."""
    got = published.select([*keys, column]).to_pandas().rename(columns={column: "published"})
    true = truth[[*keys, truth_column]].rename(columns={truth_column: "true"})
    return got.merge(true, on=keys)


def presence_error(published: pa.Table, truth_presence: str, column: str = "people",
                   truth_column: str = "people") -> dict:
    """Error of published ``column`` per area-hour against the truth's ``truth_column``, over the
    published cells with a true count above 0.

    ``median_abs_pct``: median of |published − true| / true; ``weighted_abs_pct``:
    Σ|published − true| / Σ true; ``coverage``: Σ published / Σ true.
    """
    truth = pq.read_table(truth_presence).to_pandas()
    merged = compared_cells(published, truth, ["time", "area_id"], column, truth_column)
    merged = merged[merged["true"] > 0]
    error = (merged["published"] - merged["true"]).abs()
    return {
        "cells_compared": int(len(merged)),
        "median_abs_pct": round(float((error / merged["true"]).median() * 100), 1),
        "weighted_abs_pct": weighted_error(merged["published"], merged["true"]),
        "coverage_pct": round(float(merged["published"].sum() / merged["true"].sum() * 100), 1),
    }


def sampling_floor(truth_presence: str) -> float | None:
    """Weighted error of the truth's ``weighted_subscribers`` against its ``people`` per area-hour:
    the error left to an estimate that places every phone right and knows every subscriber's home."""
    truth = pq.read_table(truth_presence, columns=["people", "weighted_subscribers"]).to_pandas()
    return weighted_error(truth["weighted_subscribers"], truth["people"])


def interval_coverage(published: pa.Table, truth: pd.DataFrame, keys: list[str], truth_column: str) -> float | None:
    """Share of published cells whose ``estimate_low``..``estimate_high`` interval holds the true number."""
    got = published.select([*keys, ESTIMATE_LOW, ESTIMATE_HIGH]).to_pandas().dropna()
    cells = got.merge(truth[[*keys, truth_column]], on=keys)
    inside = (cells[ESTIMATE_LOW] <= cells[truth_column]) & (cells[truth_column] <= cells[ESTIMATE_HIGH])
    return round(float(inside.mean()), 3) if len(cells) else None


def trip_scores(published: pa.Table, truth_trips: str, column: str = "trips",
                truth_column: str = "subscriber_trips") -> dict:
    """Published trips per date, origin and destination against the truth, over the published cells.

    ``total_ratio``: Σ published ÷ Σ true trips of those cells; ``spearman``: the
    rank correlation of published and true trips over them (true 0 where the
    truth has no trip); ``true_trips_in_published_pct``: share of all true trips
    that fall in a published cell.
    """
    truth = pacsv.read_csv(truth_trips, convert_options=pacsv.ConvertOptions(
        column_types={"date": pa.string()})).to_pandas()
    got = published.to_pandas()
    got["date"] = got["date"].astype(str)
    keys = ["date", "origin", "destination"]
    cells = got[[*keys, column]].merge(truth[[*keys, truth_column]], on=keys, how="left").fillna({truth_column: 0})
    published_trips, true_trips = cells[column].astype(float), cells[truth_column].astype(float)
    return {
        "cells_compared": int(len(cells)),
        "total_ratio": round(float(published_trips.sum() / true_trips.sum()), 3) if true_trips.sum() else None,
        "spearman": round(float(published_trips.rank().corr(true_trips.rank())), 3) if len(cells) > 2 else None,
        "true_trips_in_published_pct": round(float(true_trips.sum() / truth[truth_column].sum() * 100), 1),
    }


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


def tourism_error(published: pa.Table, truth_csv: str, column: str = "visitors",
                  truth_column: str = "visitors") -> dict:
    """Published ``column`` per date, area and visitor type against the truth's ``truth_column``
    (all origins summed), over published cells with true visitors; weighted error per visitor type."""
    truth = pacsv.read_csv(truth_csv).to_pandas()
    truth["date"] = truth["date"].astype(str)
    got = published.to_pandas()
    got["date"] = got["date"].astype(str)
    keys = ["date", "area_id", "visitor_type"]
    merged = got.groupby(keys)[column].sum().rename("published").reset_index().merge(
        truth.groupby(keys)[truth_column].sum().rename("true").reset_index(), on=keys)
    merged = merged[merged["true"] > 0]
    return {kind: {"cells_compared": int(len(part)),
                   "weighted_abs_pct": weighted_error(part["published"], part["true"])}
            for kind, part in merged.groupby("visitor_type")}
