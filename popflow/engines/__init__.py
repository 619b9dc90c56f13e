"""Engines run indicator SQL over the lake. They are chosen at the edge (CLI, API).

Engines are registered through the ``popflow.engines`` entry-point group: each
entry point's name is the engine's name and its value the engine class, built
with ``(workspace, **options)``. popflow's own DuckDB and Spark engines are
registered the same way in its ``pyproject.toml``. An engine class may offer
``ingest_loader(**options)``, how an ingest with that engine reads and writes
its files; without it, files are ingested in-process.
"""

from __future__ import annotations

from typing import Protocol

import pyarrow as pa

from popflow.errors import PopflowError
from popflow.plugins import discover, load

GROUP = "popflow.engines"
LAKE_PREFIX = "lake_"  # lake datasets are relations named ``lake_<source>`` in every engine


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


def engine_names() -> tuple[str, ...]:
    """The names of the registered engines, sorted."""
    return tuple(sorted({e.name for e in discover(GROUP)}))


def open_engine(name: str, workspace, **options) -> Engine:
    """The engine called ``name`` over a workspace's lake.

    Options go to the engine: ``memory_limit`` for DuckDB; ``master`` (default
    ``local[*]``, or ``sc://host:port`` for Spark Connect) and ``conf`` (a dict of
    Spark settings, as ``--spark-conf key=value``) for Spark.
    """
    return _engine_class(name)(workspace, **options)


def ingest_loader(name: str, options: dict):
    """How an ingest with the engine called ``name`` reads and writes its files: in-process (None), or as the
    engine's ``ingest_loader`` says (Spark: tasks, one per file)."""
    loader = getattr(_engine_class(name), "ingest_loader", None)
    return None if loader is None else loader(**options)


def _engine_class(name: str) -> type:
    """The class of the engine called ``name``, imported only now (an engine's libraries may be an extra)."""
    entry = next((e for e in discover(GROUP) if e.name == name), None)
    if entry is None:
        raise PopflowError(f"engine '{name}' is not available (engines: {', '.join(engine_names())})")
    return load(entry, "engine")
