"""Engines run indicator SQL over the lake. They are chosen at the edge (CLI, API)."""

from __future__ import annotations

from typing import Protocol

import pyarrow as pa

from popflow.errors import PopflowError
from popflow.settings import ENGINES


class Engine(Protocol):
    """What the release runner needs from an engine."""

    name: str

    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table queryable as ``name``."""

    def create_view(self, name: str, sql: str) -> None:
        """Define ``name`` as the DuckDB-dialect query ``sql``."""

    def materialize(self, name: str, sql: str) -> None:
        """Compute the DuckDB-dialect query ``sql`` once and keep it as ``name``."""

    def table(self, sql: str) -> pa.Table:
        """Run a DuckDB-dialect query and return its result."""

    def close(self) -> None:
        """Release the engine's resources."""


def open_engine(name: str, workspace, **options) -> Engine:
    """The engine called ``name`` over a workspace's lake.

    Options go to the engine: ``memory_limit`` for DuckDB; ``master`` (default
    ``local[*]``, or ``sc://host:port`` for Spark Connect) and ``conf`` (a dict of
    Spark settings, as ``--spark-conf key=value``) for Spark.
    """
    if name == "duckdb":
        from popflow.engines.duckdb_engine import DuckDBEngine

        return DuckDBEngine(workspace, **options)
    if name == "spark":
        from popflow.engines.spark_engine import SparkEngine

        return SparkEngine(workspace, **options)
    raise PopflowError(f"engine '{name}' is not available (engines: {', '.join(ENGINES)})")
