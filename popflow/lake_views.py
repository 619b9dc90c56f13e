"""DuckDB views over the committed lake, one per dataset."""

from __future__ import annotations

import duckdb

from popflow.datasets import SCHEMAS, empty_select
from popflow.lake import Lake
from popflow.sql import literals


def register_lake(con: duckdb.DuckDBPyConnection, lake: Lake, prefix: str = "") -> None:
    """Create a view per dataset over its committed Parquet files (empty when none)."""
    for source in SCHEMAS:
        con.execute(f"CREATE OR REPLACE VIEW {prefix}{source} AS {lake_select(lake, source, con)}")


def lake_select(lake: Lake, source: str, con: duckdb.DuckDBPyConnection) -> str:
    """SQL reading one dataset's committed files with its declared column order.

    A declared column that no file holds (an optional column added to the
    dataset after its files were written) reads as NULL.
    """
    files = lake.data_files(source)
    schema = SCHEMAS[source]
    if not files:
        return empty_select(schema)
    listing = literals(files)
    read = f"read_parquet([{listing}], hive_partitioning=true, union_by_name=true)"
    held = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {read}").fetchall()}
    cols = ", ".join(f'{_held(n) if n in held else "NULL"}::{t} AS "{n}"' for n, t in schema.items())
    return f"SELECT {cols} FROM {read}"


def _held(column: str) -> str:
    return f'"{column}"'
