"""DuckDB-dialect SQL made runnable on Spark: transpiled by SQLGlot, its shared CTEs split out.

Spark inlines a CTE at every reference, so a building block used three times
(night locations in ``tourism``, say) is computed three times. DuckDB computes
such a CTE once. ``split_ctes`` turns the top-level CTEs of a statement into
named steps the engine registers in order (persisting the costly ones read
more than once), and leaves the main query reading them: same result, each
costly step computed once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp


@lru_cache(maxsize=512)
def to_spark_sql(sql: str) -> str:
    """Translate one DuckDB-dialect statement to Spark SQL."""
    return sqlglot.parse_one(sql, read="duckdb").transform(_exact_quantile).sql(dialect="spark")


def _exact_quantile(node: exp.Expression) -> exp.Expression:
    """DuckDB's ``quantile_cont(x, p)`` as Spark's ``percentile(x, p)``: both exact, interpolating linearly.

    (SQLGlot writes ``percentile_cont(x, p)``, which Spark only knows as an ordered-set aggregate.)
    """
    if isinstance(node, exp.PercentileCont) and node.expression is not None:
        return exp.Anonymous(this="PERCENTILE", expressions=[node.this.copy(), node.expression.copy()])
    return node


@dataclass(frozen=True)
class Step:
    """A top-level CTE as a view of its own."""

    name: str
    sql: str
    shared: bool  # costly and read more than once by later steps and the main query: computed once, kept


def split_ctes(spark_sql: str, prefix: str) -> tuple[list[Step], str]:
    """The statement's top-level CTEs as steps named ``prefix + alias``, and the main query over them."""
    tree = sqlglot.parse_one(spark_sql, read="spark")
    ctes = list(tree.ctes) if isinstance(tree, exp.Query) else []
    if not ctes:
        return [], spark_sql
    names = {c.alias: prefix + c.alias for c in ctes}
    bodies = [c.this.copy() for c in ctes]
    tree.find(exp.With).pop()
    reads = {alias: 0 for alias in names}
    for part in [*bodies, tree]:
        for table in _references(part, names):
            reads[table.name] += 1
            table.replace(exp.to_table(names[table.name]).as_(table.alias_or_name))
    steps = [Step(names[c.alias], body.sql(dialect="spark"), reads[c.alias] > 1 and _costly(body))
             for c, body in zip(ctes, bodies, strict=True)]
    return steps, tree.sql(dialect="spark")


def _costly(query: exp.Expression) -> bool:
    """Whether a query shuffles (groups, joins, windows, distinct): worth keeping rather than recomputing."""
    return query.find(exp.Group, exp.Join, exp.Window, exp.Distinct, exp.AggFunc) is not None


def referenced_tables(spark_sql: str) -> set[str]:
    """Names of the tables and views a statement reads (CTE names included)."""
    return {t.name for t in sqlglot.parse_one(spark_sql, read="spark").find_all(exp.Table) if not t.db}


def _references(tree: exp.Expression, names: dict[str, str]) -> list[exp.Table]:
    return [t for t in tree.find_all(exp.Table) if t.name in names and not t.db]
