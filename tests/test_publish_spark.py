"""A package published on Spark: one Spark session, shared blocks persisted once, the releases DuckDB gives."""

from __future__ import annotations

from popflow.plan import Plan

from test_spark import assert_same_release, session, ws  # noqa: F401  (the Spark session and workspace fixtures)

PLAN = {"level": "city",
        "release": [{"run": "present-population", "by": ["", "gender"]}, {"run": "od-flows"}]}


def test_a_package_on_spark_gives_the_releases_of_duckdb(ws):  # noqa: F811
    plan = Plan.from_dict(PLAN)
    duck, spark = ws.publish(plan, engine="duckdb"), ws.publish(plan, engine="spark")
    assert [r.manifest["engine"] for r in spark] == ["spark"] * len(plan.releases)
    assert sum(r.table.num_rows for r in duck) > 0
    for d, s in zip(duck, spark, strict=True):
        assert_same_release(d, s)
