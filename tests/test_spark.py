"""The Spark engine gives what DuckDB gives: every indicator, every table, every number.

Runs real PySpark in local mode (Java needed; ``scripts/test.sh`` installs it).
One SparkSession serves the whole module; each release runs once per engine.
"""

from __future__ import annotations

import datetime
from fractions import Fraction

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from popflow import indicators
from popflow.disclosure.differential_privacy import DifferentialPrivacy
from popflow.disclosure.request import bounding_salt
from popflow.engines import open_engine
from popflow.engines import spark_engine as spark
from popflow.engines.spark_sql import split_ctes, to_spark_sql
from popflow.errors import PopflowError
from popflow.indicators.blocks import with_query
from popflow.indicators.od_flows import sequence_ctes
from popflow.indicators.params import from_text
from popflow.indicators.stays import ORDER, stays, stays_ctes
from popflow.release_inputs import prepare_inputs

import reference as ref
import scenario

MASTER = "local[2]"
POPULATION = pd.DataFrame({"area_id": ["A", "B", "C", "X"], "population": [12_345, 20_001, 7_777, 40_000]})
# Every registered indicator with its defaults, then breakdowns, carry, levels, bins, methods and max gaps.
VARIANTS = [
    ("present-population", {"by": "gender,age_band", "carry": 3, "level": "city", "bin": "30min",
                            "method": "observed"}),
    ("present-population", {"by": "gender", "level": "city", "bin": "30min", "max_gap": "3h"}),
    ("residents", {"by": "gender,age_band", "level": "city"}),
    ("od-flows", {"level": "city", "bin": "30min", "method": "observed"}),
    ("od-flows", {"level": "city", "max_gap": "2h"}),
    ("tourism", {"method": "observed"}),
]
# Indicators whose SQL does not run on Spark yet, with the reason (strict: a fix makes the test fail until removed).
NOT_PORTABLE: dict[str, str] = {}  # indicator → why its SQL cannot run on Spark (none today)
CASES = [
    pytest.param(name, params, id=f"{name}{params or ''}",
                 marks=[pytest.mark.xfail(reason=NOT_PORTABLE[name], strict=True)] if name in NOT_PORTABLE else [])
    for name, params in [(i.name, {}) for i in indicators.all_indicators()] + VARIANTS
]


@pytest.fixture(scope="module")
def session():
    """One SparkSession for the module, stopped at its end."""
    yield spark.shared_session(MASTER)
    spark.stop_shared_session()


@pytest.fixture(scope="module")
def ws(tmp_path_factory, session):
    events = scenario.random_events(n_people=60, days=40, per_day=8, seed=11)
    root = tmp_path_factory.mktemp("spark")
    workspace = scenario.workspace(root, events, scenario.subscribers(60), k=2, population=POPULATION)
    # Tickets over 70 weeks (year-on-year changes), sales and exchange rates for the travel and retail indicators.
    scenario.ingest_frames(workspace, root / "more",
                           tickets=scenario.random_tickets(30, weeks=70, per_week=25, start="2025-01-06"),
                           sales=scenario.random_sales(25, days=14, per_day=20, start="2026-01-26"),
                           fx=scenario.fx_rates("2024-12-01", "2026-06-30"))
    return workspace


def frames(release) -> dict[str, pd.DataFrame]:
    """Each table of a release as a pandas frame sorted by all its columns (keys first)."""
    return {name: t.to_pandas().sort_values(t.column_names).reset_index(drop=True)
            for name, t in release.tables.items()}


def assert_same_release(duck, other) -> None:
    """Same tables, types, rows and numbers, and the same cells suppressed.

    Integers, text and dates must be equal. A sum of floating-point amounts may
    differ in its last bits, as the engines add in different orders (as DuckDB
    does from one run to the next with a different number of threads).
    """
    assert list(other.tables) == list(duck.tables)
    for name, table in duck.tables.items():
        assert other.tables[name].schema == table.schema, name
    for name, frame in frames(duck).items():
        pd.testing.assert_frame_equal(frames(other)[name], frame, check_exact=False, rtol=1e-12, atol=0)
    suppressed = [{k: v for k, v in r.manifest["suppressed"].items() if k != "derived_from"} for r in (duck, other)]
    assert suppressed[1] == suppressed[0]
    assert (duck.manifest["engine"], other.manifest["engine"]) == ("duckdb", "spark")


@pytest.mark.parametrize(("name", "params"), CASES)
def test_every_indicator_gives_the_same_release_on_both_engines(ws, name, params):
    duck = ws.run(name, engine="duckdb", **params)
    # A derived table (alerts) may rightly be empty on random data; its source release has its own case.
    assert sum(t.num_rows for t in duck.tables.values()) > 0 or indicators.get(name).derive
    assert_same_release(duck, ws.run(name, engine="spark", **params))


def test_same_release_across_a_daylight_saving_change_without_census(tmp_path, session):
    # New York moves its clocks on 2026-03-08: local hours, nights and carried bins around it.
    events = scenario.random_events(n_people=40, days=10, per_day=10, seed=5, start="2026-03-03")
    other = scenario.workspace(tmp_path, events, scenario.subscribers(40), k=2, timezone="America/New_York")
    window = {"date_from": datetime.date(2026, 3, 4), "date_to": datetime.date(2026, 3, 11)}
    for params in ({"carry": 2, "method": "observed"}, {"method": "stays"}):
        assert_same_release(other.run("present-population", engine="duckdb", **window, **params),
                            other.run("present-population", engine="spark", **window, **params))


def test_a_window_of_too_few_people_is_refused_on_spark(ws):
    with pytest.raises(PopflowError, match="too few people"):
        ws.run("present-population", engine="spark", date_from=datetime.date(2030, 1, 1),
               date_to=datetime.date(2030, 1, 2))


def engines(ws, name: str):
    """Both engines with the release inputs of ``name`` (default parameters) prepared."""
    indicator = indicators.get(name)
    p = from_text(indicator.params, {})
    opened = [open_engine("duckdb", ws), open_engine("spark", ws)]
    for eng in opened:
        prepare_inputs(eng, ws, p, ws.area_rows(), ws.settings)
    return indicator, p, opened


@pytest.mark.parametrize("name", ["present-population", "od-flows"])
def test_dp_bounding_keeps_the_same_person_cells_on_both_engines(ws, name):
    indicator, p, opened = engines(ws, name)
    mechanism = DifferentialPrivacy(1.0, 1e-7, 2, 1, salt=bounding_salt(ws, name))
    contribution = indicator.define(p)[0]
    # As in test_privacy_engine: list the people of each bounded cell instead of counting them.
    sql = mechanism.cells_sql(contribution, f"({contribution.sql})", None).replace(
        f"count(*) AS {contribution.people}", f"list(person) AS {contribution.people}")
    kept = []
    try:
        for eng in opened:
            df = eng.table(sql).to_pandas()
            df[contribution.people] = df[contribution.people].map(lambda people: tuple(sorted(people)))
            kept.append(df.sort_values(list(df.columns)).reset_index(drop=True))
    finally:
        for eng in opened:
            eng.close()
    pd.testing.assert_frame_equal(kept[1], kept[0])
    cells_per_person = kept[0][contribution.people].explode().value_counts()
    assert cells_per_person.max() == 2  # the bound of two cells per person was reached, never passed


@pytest.mark.parametrize("max_gap", [3600, 43_200])
def test_stays_are_the_same_on_both_engines(ws, max_gap):
    _, _, opened = engines(ws, "present-population")
    try:
        got = [eng.table(stays(max_gap) + " ORDER BY person, start_t") for eng in opened]
    finally:
        for eng in opened:
            eng.close()
    assert got[0].num_rows > 1000 and got[1].equals(got[0])


def border_place_events(people: int = 30, days: int = 8, seed: int = 3) -> pa.Table:
    """``person, t, area_id``: each person's mornings at a place served from two areas (a session of 2 to 5
    events 40 s apart, each on either side), an afternoon session anywhere and, some days, a late evening one
    on either side."""
    rng = np.random.default_rng(seed)
    areas, rows = ["A", "B", "C", "D"], []
    for person in range(people):
        near, far = rng.choice(areas, 2, replace=False)
        for day in range(days):
            morning = 20_474 * 86_400 + day * 86_400 + 8 * 3600 + int(rng.integers(0, 3600))
            rows += [(person, morning + 40 * i, str(rng.choice([near, far], p=[0.6, 0.4])))
                     for i in range(int(rng.integers(2, 6)))]
            rows += [(person, morning + 6 * 3600 + 40 * i, str(rng.choice(areas))) for i in range(2)]
            if rng.random() < 0.5:
                rows.append((person, morning + 15 * 3600, str(rng.choice([near, far]))))
    person, t, area = zip(*rows, strict=True)
    return pa.table({"person": pa.array(person, pa.int64()), "t": pa.array(t, pa.int64()), "area_id": area})


def on_both_engines(ws, sql: str, **tables: pa.Table) -> list[pa.Table]:
    """What ``sql`` gives on DuckDB and on Spark, each with ``tables`` registered by name."""
    opened = [open_engine("duckdb", ws), open_engine("spark", ws)]
    try:
        for eng in opened:
            for name, table in tables.items():
                eng.register(name, table)
        return [eng.table(sql) for eng in opened]
    finally:
        for eng in opened:
            eng.close()


def test_stays_at_border_places_are_the_same_on_both_engines(ws):
    events = border_place_events()
    frame = events.to_pandas()
    assert any(ref.leanings(sorted(zip(g["t"], g["area_id"], strict=True))) for _, g in frame.groupby("person"))
    got = on_both_engines(ws, stays(43_200) + " ORDER BY person, start_t", events=events)
    assert got[0].num_rows > 30 and got[1].equals(got[0])


def at(local: str) -> int:
    """Local epoch seconds of a local time such as ``2026-01-20 09:00``."""
    return int(pd.Timestamp(local).timestamp())


def events_table(rows: list[tuple[int, str, str]]) -> pa.Table:
    """``person, t, area_id`` from ``(person, local time, area)``."""
    person, local, area = zip(*rows, strict=True)
    return pa.table({"person": pa.array(person, pa.int64()), "t": pa.array([at(x) for x in local], pa.int64()),
                     "area_id": area})


def tie_events(people: int) -> pa.Table:
    """Each person, on a day of their own: events in A and B in one second (A first, then B), and hours later
    ping-pong that settles in A. The lone A run and the episode (which begins at the B event) are two pieces
    in A beginning in that second; the person's C events next morning are over ``max_gap`` later."""
    pattern = [("09:00:00", "A"), ("09:00:00", "B"), ("12:00", "B"), ("12:10", "A"), ("12:11", "A"),
               ("12:12", "A"), ("12:13", "A"), ("12:15", "B"), ("12:20", "A"), ("12:21", "A")]
    rows = []
    for person in range(people):
        day, next_day = (pd.Timestamp("2026-01-20") + pd.Timedelta(days=2 * person + d) for d in (0, 1))
        rows += [(person, f"{day.date()} {clock}", area) for clock, area in pattern]
        rows += [(person, f"{next_day.date()} {clock}", "C") for clock in ("06:00", "06:01")]
    return events_table(rows)


# Steps of the stays whose rows later windows read in time order (stays.ORDER), each row once per key.
ORDERED_STEPS = ("stay_leaned", "stay_returns", "stay_episodes", "stay_pieces", "stay_timed")


def test_pieces_beginning_in_one_second_are_one_stay_on_both_engines(ws):
    people, key = 6, ORDER.split("ORDER BY")[1]
    counts = [(step, key) for step in ORDERED_STEPS] + [("stay_pieces", "first_t, area_id")]
    repeats = with_query(stays_ctes(43_200), " UNION ALL ".join(
        f"SELECT '{step}: {columns}' AS step, count(*) AS repeated FROM (SELECT person FROM {step} "
        f"GROUP BY person, {columns} HAVING count(*) > 1)" for step, columns in counts))
    got, keys = (on_both_engines(ws, sql, events=tie_events(people))
                 for sql in (stays(43_200) + " ORDER BY person, start_t", repeats + " ORDER BY step"))
    # Each person's two pieces in A begin in one second, each at an event of its own: the steps' time order
    # (by the number of a row's first event) has no ties.
    want = {f"{step}: {key}": 0 for step in ORDERED_STEPS} | {"stay_pieces: first_t, area_id": people}
    for table in keys:
        assert dict(zip(*table.to_pydict().values(), strict=True)) == want
    assert got[1].equals(got[0])
    frame = got[0].to_pandas()
    for person in range(people):
        day, next_day = (pd.Timestamp("2026-01-20") + pd.Timedelta(days=2 * person + d) for d in (0, 1))
        want = [("A",) + tuple(at(f"{day.date()} {c}") for c in ("09:00", "12:21", "03:00", "18:21")),
                ("C",) + tuple(at(f"{next_day.date()} {c}") for c in ("06:00", "06:01", "00:00", "12:01"))]
        rows = frame[frame["person"] == person]
        assert list(zip(rows["area_id"], rows["first_t"], rows["last_t"], rows["start_t"], rows["end_t"],
                        strict=True)) == want


def test_a_trip_into_two_stays_of_one_area_begun_at_one_event_has_one_date_on_both_engines(ws):
    # Events in A, B and C in one second, then ping-pong settling in A: the lone A run, a pass-through B (dropped)
    # and the episode make two stays in A that begin at one event, the first reaching back into the night.
    ping_pong = [("06:05", "A"), ("06:05", "B"), ("06:05", "C"), ("06:06", "D"), ("06:07", "C"),
                 *[(f"06:{m:02d}", "A") for m in range(8, 13)], ("06:14", "C"),
                 *[(f"06:{m:02d}", "A") for m in range(15, 18)], ("09:00", "A")]
    events = events_table([(1, "2026-01-20 21:40", "X"), (1, "2026-01-20 21:50", "X"),
                           *[(1, f"2026-01-21 {clock}", area) for clock, area in ping_pong]])
    area_map = pa.table({"area_id": list("ABCDX"), "target_id": list("ABCDX")})
    p = from_text(indicators.get("od-flows").params, {})
    sql = with_query(sequence_ctes(p), "SELECT day, previous, area_id FROM sequence ORDER BY day, area_id")
    placed, got = (on_both_engines(ws, query, events=events, area_map=area_map)
                   for query in (stays(43_200) + " ORDER BY start_t", sql))
    assert placed[1].equals(placed[0]) and got[1].equals(got[0])
    assert placed[0].column("area_id").to_pylist() == ["X", "A", "A"]
    assert placed[0].column("first_t").to_pylist()[1:] == [at("2026-01-21 06:05")] * 2
    # The trip from X arrives in the first stay in A, which starts on the 20th (at 21:57:30).
    day = at("2026-01-20 00:00") // 86_400
    assert got[0].to_pylist() == [{"day": day, "previous": "X", "area_id": "A"},
                                  {"day": day, "previous": None, "area_id": "X"},
                                  {"day": day + 1, "previous": "A", "area_id": "A"}]


def test_census_estimate_rounds_ties_the_same_way_on_both_engines(ws):
    # 35 × 64 893 / 100 = 22 712.55 exactly: a tie that floating-point round() breaks differently per engine.
    published = pa.table({"period": ["2026-01"] * 3 + ["2026-02"], "area_id": ["A", "A", "A", "B"],
                          "gender": ["F", "M", "other", "F"], "people": [35, 40, 25, 7]})
    census = pa.table({"area_id": ["A", "B"], "population": [64_893, 1_000_000_001]})
    residents, _, opened = engines(ws, "residents")
    results = []
    try:
        for eng in opened:
            eng.register("published", published)
            eng.register("census_rows", census)
            eng.create_view("target_population", "SELECT * FROM census_rows")
            got = eng.table(residents.finish("published", None))
            results.append(got.sort_by([("area_id", "ascending"), ("gender", "ascending")]))
    finally:
        for eng in opened:
            eng.close()
    assert results[1].equals(results[0])
    want = [float(round_half_up(Fraction(n * 64_893, 100))) for n in (35, 40, 25)] + [1_000_000_001.0]
    assert results[0].column("estimate").to_pylist() == want
    assert want[0] == 22_712.6


def round_half_up(x: Fraction) -> Fraction:
    return Fraction(int(x * 10 + Fraction(1, 2)), 10)


def test_dialect_and_types_match_duckdb(ws):
    sql = ("SELECT 7 // 2 AS q, -7 // 2 AS nq, -7 % 2 AS r, count(*) FILTER (WHERE x > 1) AS n, "
           "DATE '2026-01-31' AS d, 'a'::VARCHAR AS s, sum(x)::BIGINT AS total, approx_count_distinct(x) AS a "
           "FROM (SELECT 1 AS x UNION ALL SELECT 2) t")
    duck, other = open_engine("duckdb", ws), open_engine("spark", ws)
    try:
        want, got = duck.table(sql), other.table(sql)
        lake = [e.table("SELECT * FROM lake_events ORDER BY person, t, cell_id") for e in (duck, other)]
    finally:
        duck.close()
        other.close()
    assert got.to_pylist() == want.to_pylist() == [{"q": 3, "nq": -3, "r": -1, "n": 1, "d": datetime.date(2026, 1, 31),
                                                    "s": "a", "total": 3, "a": 2}]
    assert got.schema.field("s").type == pa.string() and got.schema.field("d").type == pa.date32()
    assert lake[1].equals(lake[0]) and lake[0].num_rows > 0


def test_costly_ctes_read_more_than_once_are_kept_as_shared_steps():
    steps, main = split_ctes(to_spark_sql(
        "WITH a AS (SELECT x, count(*) AS n FROM t GROUP BY x), b AS (SELECT x FROM a), "
        "c AS (SELECT x FROM t WHERE x > 1), "
        "d AS (SELECT x FROM a UNION ALL SELECT x FROM b UNION ALL SELECT x FROM c) "
        "SELECT d.x FROM d JOIN a ON a.x = d.x JOIN c ON c.x = d.x"), "_s_")
    assert [(s.name, s.shared) for s in steps] == [("_s_a", True), ("_s_b", False), ("_s_c", False), ("_s_d", False)]
    assert steps[1].sql == "SELECT x FROM _s_a AS a"
    assert main == "SELECT d.x FROM _s_d AS d JOIN _s_a AS a ON a.x = d.x JOIN _s_c AS c ON c.x = d.x"


def test_relations_are_created_when_first_read_and_a_redefinition_takes_effect(ws):
    eng = open_engine("spark", ws)
    try:
        eng.register("unread", pa.table({"x": [1]}))
        eng.create_view("v", "SELECT 1 AS x")
        eng.create_view("w", "SELECT x + 10 AS x FROM v")
        assert eng.table("SELECT x FROM w").to_pylist() == [{"x": 11}]
        assert not eng.spark.catalog.tableExists("unread")
        eng.create_view("v", "SELECT 2 AS x")  # w reads v: the new v applies at once
        eng.create_view("m", "SELECT 3 AS x")
        eng.materialize("m", "SELECT 4 AS x")
        assert eng.table("SELECT w.x, m.x AS y FROM w, m").to_pylist() == [{"x": 12, "y": 4}]
    finally:
        eng.close()


def test_options_reach_the_session_and_its_master_is_fixed_per_process(ws, session):
    eng = open_engine("spark", ws, master=MASTER, conf={"spark.sql.shuffle.partitions": "3"})
    try:
        assert eng.name == "spark" and eng.spark.sparkContext is session.sparkContext
        assert eng.spark.conf.get("spark.sql.shuffle.partitions") == "3"
        assert eng.spark.conf.get("spark.sql.session.timeZone") == scenario.TIMEZONE
    finally:
        eng.close()
    with pytest.raises(PopflowError, match="already running"):
        open_engine("spark", ws, master="local[3]")
    with pytest.raises(PopflowError, match="spark.executor.memory"):
        open_engine("spark", ws, conf={"spark.executor.memory": "64g"})


def test_unknown_engine_is_refused(ws):
    with pytest.raises(PopflowError, match="engines: duckdb, spark"):
        open_engine("flink", ws)
