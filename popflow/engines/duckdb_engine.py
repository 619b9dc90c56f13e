"""The embedded DuckDB engine: in-process, out-of-core, over the Parquet lake."""

from __future__ import annotations

import contextlib
import os

import duckdb
import pyarrow as pa

from popflow.engines import LAKE_PREFIX
from popflow.errors import PopflowError
from popflow.lake_views import register_lake
from popflow.sql import literal


class DuckDBEngine:
    """Runs indicator SQL with DuckDB; spills to ``<workspace>/.tmp`` past its memory limit."""

    name = "duckdb"

    def __init__(self, workspace, memory_limit: str | None = None):
        self.con = duckdb.connect()
        spill = workspace.path / ".tmp"
        self.memory_limit = memory_limit or os.environ.get("POPFLOW_MEMORY", "6GB")
        self.con.execute(f"SET temp_directory = {literal(spill)}")
        try:
            self.con.execute(f"SET memory_limit = {literal(self.memory_limit)}")
        except duckdb.Error:
            raise PopflowError(f"memory limit '{self.memory_limit}' (POPFLOW_MEMORY) is not a memory size such as "
                               "6GB or 500MB") from None
        self.con.execute(f"SET TimeZone = '{workspace.settings.timezone}'")
        self.con.execute("SET enable_progress_bar = false")
        register_lake(self.con, workspace.lake, prefix=LAKE_PREFIX)

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(f"{name}_arrow", table)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
        self.con.unregister(f"{name}_arrow")

    def create_view(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")

    def materialize(self, name: str, sql: str) -> None:
        with self._memory():
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def table(self, sql: str) -> pa.Table:
        with self._memory():
            return self.con.sql(sql).to_arrow_table()

    @contextlib.contextmanager
    def _memory(self):
        """DuckDB running out of memory (what it cannot spill) as one line saying what to do."""
        try:
            yield
        except duckdb.OutOfMemoryException:
            raise PopflowError(
                f"out of memory: this release needs more than DuckDB's memory limit ({self.memory_limit}) even "
                "after spilling to disk; give it more with the POPFLOW_MEMORY environment variable (e.g. "
                "POPFLOW_MEMORY=16GB), release a shorter --from/--to window, or use --engine spark; nothing "
                "was released or charged") from None

    def close(self) -> None:
        self.con.close()
