"""Accuracy of popflow against a synthetic world's ground truth, beside the methods it replaces.

    python benchmarks/accuracy.py [--people 20000] [--days 35] [--seed 5] [--dir /tmp/popflow-accuracy]

Generates a world of ``--people`` inhabitants (about 40 % of them the operator's
subscribers; see ``popflow.synth``), ingests the operator's records and the
census, and prints one table. Each line is a figure, in words, for the new
method (presence and trips from stays, population estimates), for the old one
(observed bin locations; counts of subscribers read as people) and, for present
population, for a naive baseline computed here. A method or column the
installed popflow does not accept prints "n/a (not available)", so the table
fills in as features land; "—" marks a figure that does not apply.

Naive baseline, over the pseudonymised lake (never raw identifiers): each
person seen is, in each hour bin, in the area of their most frequent event
within one hour of the bin's middle, else of their event nearest to it within
24 hours; they weigh census population ÷ people detected as residents of their
modal night area (the area of their night events on most nights), or the
region's ratio when they have no night event.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from popflow import Workspace, accuracy, synth
from popflow.demo import ingest_scenario
from popflow.engines import open_engine
from popflow.errors import PopflowError
from popflow.indicators import od_flows, present_population
from popflow.indicators.estimates import weighted_sql
from popflow.indicators.params import Binned
from popflow.outputs import zone_times
from popflow.release_inputs import prepare_inputs

START = datetime.date(2026, 1, 19)  # a Monday; 35 days cross into February
NOT_AVAILABLE = "n/a (not available)"
NOT_APPLICABLE = "—"
NO_CELLS = "no cell published"
VISITOR_TYPES = ("domestic_overnight", "domestic_sameday", "international")

NAIVE_PRESENCE = """
WITH span AS (SELECT min(t) - min(t) % 3600 AS first, max(t) - max(t) % 3600 AS last FROM events),
grid AS (SELECT p.person, b.slot, b.slot + 1800 AS middle
         FROM (SELECT DISTINCT person FROM events) p,
              (SELECT unnest(generate_series(first, last, 3600)) AS slot FROM span) b),
near AS (SELECT person, slot, area_id FROM (
             SELECT person, unnest(generate_series((t - 5400 + 3599) // 3600 * 3600, (t + 1800) // 3600 * 3600,
                                                   3600)) AS slot, area_id, t FROM events)
         GROUP BY person, slot, area_id
         QUALIFY row_number() OVER (PARTITION BY person, slot ORDER BY count(*) DESC, max(t) DESC, area_id) = 1),
before AS (SELECT g.person, g.slot, g.middle - e.t AS distance, e.area_id
           FROM grid g ASOF JOIN events e ON e.person = g.person AND e.t <= g.middle),
after AS (SELECT g.person, g.slot, e.t - g.middle AS distance, e.area_id
          FROM grid g ASOF JOIN events e ON e.person = g.person AND e.t >= g.middle),
nearest AS (SELECT person, slot, area_id FROM (SELECT * FROM before UNION ALL SELECT * FROM after)
            WHERE distance <= 86400
            QUALIFY row_number() OVER (PARTITION BY person, slot ORDER BY distance, area_id) = 1),
located AS (SELECT coalesce(n.person, f.person) AS person, coalesce(n.slot, f.slot) AS slot,
                   coalesce(n.area_id, f.area_id) AS area_id
            FROM near n FULL JOIN nearest f ON f.person = n.person AND f.slot = n.slot),
night_area AS (SELECT person, area_id FROM events WHERE (t - 79200) % 86400 < 28800
               GROUP BY person, area_id
               QUALIFY row_number() OVER (PARTITION BY person ORDER BY count(DISTINCT (t - 79200) // 86400) DESC,
                                                                       count(*) DESC, area_id) = 1),
area_weight AS (SELECT r.area_id, p.population, r.detected, p.population / r.detected AS weight
                FROM (SELECT area_id, count(*) AS detected FROM night_area GROUP BY area_id) r
                JOIN census p ON p.area_id = r.area_id),
weights AS (SELECT g.person, coalesce(w.weight, (SELECT sum(population) / sum(detected) FROM area_weight)) AS weight
            FROM (SELECT DISTINCT person FROM events) g
            LEFT JOIN night_area n ON n.person = g.person LEFT JOIN area_weight w ON w.area_id = n.area_id)
SELECT l.slot AS time, l.area_id, count(*) AS people, sum(w.weight) AS estimate
FROM located l JOIN weights w ON w.person = l.person
WHERE l.slot BETWEEN (SELECT first FROM span) AND (SELECT last FROM span)
GROUP BY l.slot, l.area_id
"""


@dataclass(frozen=True)
class Figure:
    """One line of the table: what it measures, and its value for each method."""

    meaning: str
    new: str
    old: str
    baseline: str = NOT_APPLICABLE


def build(folder: Path, people: int, days: int, seed: int) -> tuple[Workspace, dict]:
    """Generate the world and ingest what the operator and the census hold; the world's summary."""
    shutil.rmtree(folder, ignore_errors=True)
    inputs = folder / "inputs"
    summary = synth.generate(inputs, people=people, days=days, seed=seed, start=START)
    ws = Workspace.init(folder / "ws", timezone="Asia/Shanghai", home_mcc=("460",), k=15)
    ingest_scenario(ws, inputs, ("areas", "cells", "subscribers", "population", "events"))
    return ws, summary


def release(ws: Workspace, name: str, **params) -> pa.Table | None:
    """The released table, or None when the installed popflow does not accept these parameters."""
    try:
        return ws.run(name, **params).table
    except PopflowError:
        return None


def old_release(ws: Workspace, name: str, **params) -> pa.Table:
    """Today's method: ``--method observed``, or the default where no such option exists yet."""
    observed = release(ws, name, method="observed", **params)
    return ws.run(name, **params).table if observed is None else observed


def naive_presence(ws: Workspace) -> pa.Table:
    """The naive baseline's people and estimate per area and hour (aggregates only)."""
    engine = open_engine("duckdb", ws)
    try:
        prepare_inputs(engine, ws, Binned(), ws.area_rows(), ws.settings)
        return zone_times(engine.table(NAIVE_PRESENCE), ws.settings.timezone)
    finally:
        engine.close()


def static_weight_presence(ws: Workspace) -> pa.Table:
    """Present-population estimates (stays) with each person's static weight — the weighting before the
    per-bin recalibration — per area and hour, before disclosure control (aggregates only)."""
    engine = open_engine("duckdb", ws)
    try:
        p = Binned()
        prepare_inputs(engine, ws, p, ws.area_rows(), ws.settings, estimates_wanted=True)
        rows = f"({weighted_sql(f'({present_population.define(p)[0].sql})', (), ws.settings.k_anonymity)})"
        return zone_times(engine.table(f"SELECT time, area_id, count(*) AS people, sum(weight) / 1000.0 AS estimate "
                                       f"FROM {rows} GROUP BY time, area_id"), ws.settings.timezone)
    finally:
        engine.close()


def percent(value: float | None) -> str:
    return NO_CELLS if value is None else f"{value:.1f} %"


def share(value: float | None) -> str:
    return NO_CELLS if value is None else f"{value * 100:.1f} %"


def ratio(value: float | None) -> str:
    return NO_CELLS if value is None else f"{value:.2f}"


def scored(table: pa.Table | None, column: str, score: Callable[[pa.Table, str], float | None],
           shown: Callable[[float | None], str] = percent) -> str:
    """A score of a table's column, or n/a when the table or the column is missing."""
    if table is None or column not in table.column_names:
        return NOT_AVAILABLE
    return shown(score(table, column))


def presence_figures(ws: Workspace, truth: Path) -> list[Figure]:
    presence = str(truth / "presence.parquet")
    new, old = release(ws, "present-population", method="stays"), old_release(ws, "present-population")
    carried = old_release(ws, "present-population", carry=3)
    static = static_weight_presence(ws)
    baseline = naive_presence(ws)

    def against(truth_column: str) -> Callable[[pa.Table, str], float | None]:
        return lambda table, column: accuracy.presence_error(table, presence, column, truth_column)["weighted_abs_pct"]

    people, subscribers = against("people"), against("subscribers")
    true_presence = pq.read_table(presence).to_pandas()

    def covered(table: pa.Table, column: str) -> float | None:
        return accuracy.interval_coverage(table, true_presence, ["time", "area_id"], "people")

    return [
        Figure("presence: estimate vs true people per district-hour, weighted |error| (old: subscribers counted)",
               scored(new, "estimate", people), scored(old, "people", people), scored(baseline, "estimate", people)),
        Figure("  the same, old method with --carry 3", NOT_APPLICABLE, scored(carried, "people", people)),
        Figure("  estimate, new: weights recalibrated per bin; old: each person's static weight",
               scored(new, "estimate", people), scored(static, "estimate", people)),
        Figure("  estimate of --method observed (weights recalibrated per bin)", NOT_APPLICABLE,
               scored(old, "estimate", people)),
        Figure("presence: people vs true subscribers per district-hour, weighted |error| (silent, misplaced)",
               scored(new, "people", subscribers), scored(old, "people", subscribers),
               scored(baseline, "people", subscribers)),
        Figure("  the same, old method with --carry 3", NOT_APPLICABLE, scored(carried, "people", subscribers)),
        Figure("presence: share of district-hours whose 90 % interval holds the true people",
               scored(new, "estimate_low", covered, share), scored(old, "estimate_low", covered, share)),
    ]


def unadjusted_trip_estimates(ws: Workspace, published: pa.Table) -> pa.Table:
    """``trips_estimate`` of od-flows (stays) as before trip detection (Σ weight × trips, no detection factor),
    over the cells of ``published`` that publish one (aggregates only)."""
    engine = open_engine("duckdb", ws)
    try:
        p = Binned()
        prepare_inputs(engine, ws, p, ws.area_rows(), ws.settings, estimates_wanted=True)
        rows = f"({weighted_sql(f'({od_flows.define(p)[0].sql})', (), ws.settings.k_anonymity)})"
        engine.register("published", published.filter(pc.is_valid(published["trips_estimate"])))
        return engine.table(f"""
            SELECT r.date, r.origin, r.destination, sum(r.weight * r.trips) / 1000.0 AS trips_estimate
            FROM {rows} r JOIN published p ON p.date = r.date AND p.origin = r.origin AND p.destination = r.destination
            GROUP BY r.date, r.origin, r.destination""")
    finally:
        engine.close()


def trip_figures(ws: Workspace, truth: Path) -> list[Figure]:
    trips = str(truth / "trips.csv")
    new, old = release(ws, "od-flows", method="stays"), old_release(ws, "od-flows")

    def score(key: str, truth_column: str = "subscriber_trips") -> Callable[[pa.Table, str], float | None]:
        return lambda table, column: accuracy.trip_scores(table, trips, column, truth_column)[key]

    def covered(table: pa.Table, column: str) -> float | None:
        dated = table.set_column(table.schema.get_field_index("date"), "date", pc.cast(table["date"], pa.string()))
        truth = pacsv.read_csv(trips, convert_options=pacsv.ConvertOptions(column_types={"date": pa.string()}))
        return accuracy.interval_coverage(dated, truth.to_pandas(), ["date", "origin", "destination"], "travellers")

    estimated = None if new is None or "trips_estimate" not in new.column_names else new.filter(
        pc.is_valid(new["trips_estimate"]))
    unadjusted = None if estimated is None else unadjusted_trip_estimates(ws, estimated)
    return [
        Figure("od-flows: trips ÷ true trips of the same subscribers, over published OD-day cells",
               scored(new, "trips", score("total_ratio"), ratio), scored(old, "trips", score("total_ratio"), ratio)),
        Figure("od-flows: Spearman correlation of trips and their true trips over published OD-day cells",
               scored(new, "trips", score("spearman"), ratio), scored(old, "trips", score("spearman"), ratio)),
        Figure("od-flows: trips_estimate ÷ true trips of everyone, over published OD-day cells (old: no detection)",
               scored(estimated, "trips_estimate", score("total_ratio", "trips"), ratio),
               scored(unadjusted, "trips_estimate", score("total_ratio", "trips"), ratio)),
        Figure("  Spearman correlation of trips_estimate and true trips of everyone over those cells",
               scored(estimated, "trips_estimate", score("spearman", "trips"), ratio),
               scored(unadjusted, "trips_estimate", score("spearman", "trips"), ratio)),
        Figure("od-flows: share of published OD-day cells whose 90 % interval holds the true travellers",
               scored(new, "estimate_low", covered, share), NOT_APPLICABLE),
    ]


def home_figures(ws: Workspace, truth: Path) -> list[Figure]:
    scores = accuracy.home_accuracy(ws, str(truth / "homes.csv"))
    return [
        Figure("home: share of detected homes in the true district (popflow's home rule, --min-nights 3)",
               share(scores["home_accuracy"]), NOT_APPLICABLE),
        Figure("home: share of subscriber-months seen on ≥ 10 nights that get a detected home",
               share(scores["home_detection_rate_seen_10_nights"]), NOT_APPLICABLE),
    ]


def tourism_figures(ws: Workspace, truth: Path) -> list[Figure]:
    table, path = ws.run("tourism").table, str(truth / "tourism.csv")

    def error(kind: str, truth_column: str) -> Callable[[pa.Table, str], float | None]:
        def score(published: pa.Table, column: str) -> float | None:
            found = accuracy.tourism_error(published, path, column, truth_column).get(kind)
            return found["weighted_abs_pct"] if found else None
        return score

    figures = []
    for kind in VISITOR_TYPES:
        figures += [
            Figure(f"tourism {kind}: estimate vs true visitors, weighted |error| (old: visitors counted)",
                   scored(table, "estimate", error(kind, "visitors")),
                   scored(table, "visitors", error(kind, "visitors"))),
            Figure(f"tourism {kind}: visitors vs true visitors among subscribers, weighted |error|",
                   NOT_APPLICABLE, scored(table, "visitors", error(kind, "subscriber_visitors"))),
        ]
    return figures


def print_table(figures: list[Figure], floor: float | None) -> None:
    width = max(len(f.meaning) for f in figures)
    print(f"{'figure':<{width}}  {'new: stays, estimate':>20}  {'old: observed':>20}  {'naive baseline':>20}")
    for f in figures:
        print(f"{f.meaning:<{width}}  {f.new:>20}  {f.old:>20}  {f.baseline:>20}")
    print(f"weighted |error| = Σ|published − true| ÷ Σ true over published cells with a true count; "
          f"{NOT_AVAILABLE}: the installed popflow does not accept that method or column; {NOT_APPLICABLE}: "
          "does not apply")
    print(f"floor of presence estimates: every phone placed right and weighted by its true home district's "
          f"census ÷ subscribers gives {percent(floor)} (sampling error alone)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000, help="inhabitants of the synthetic region")
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/popflow-accuracy"))
    args = parser.parse_args()
    ws, summary = build(args.dir, args.people, args.days, args.seed)
    truth = args.dir / "inputs" / "truth"
    print(f"synthetic world: {args.people:,} inhabitants ({summary['subscribers']:,} subscribers, "
          f"{summary['events']:,} events) × {args.days} days, seed {args.seed}")
    print_table([*presence_figures(ws, truth), *trip_figures(ws, truth), *home_figures(ws, truth),
                 *tourism_figures(ws, truth)], accuracy.sampling_floor(str(truth / "presence.parquet")))


if __name__ == "__main__":
    main()
