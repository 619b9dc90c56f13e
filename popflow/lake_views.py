"""DuckDB views over the committed lake, one per dataset."""

from __future__ import annotations

import duckdb

from popflow.datasets import SCHEMAS, empty_select
from popflow.lake import Lake


def register_lake(con: duckdb.DuckDBPyConnection, lake: Lake, prefix: str = "") -> None:
    """Create a view per dataset over its committed Parquet files (empty when none)."""
    for source in SCHEMAS:
        con.execute(f"CREATE OR REPLACE VIEW {prefix}{source} AS {lake_select(lake, source)}")


def lake_select(lake: Lake, source: str) -> str:
    """SQL reading one dataset's committed files with its declared column order."""
    files = lake.data_files(source)
    schema = SCHEMAS[source]
    if not files:
        return empty_select(schema)
    listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    cols = ", ".join(f'"{n}"::{t} AS "{n}"' for n, t in schema.items())
    return f"SELECT {cols} FROM read_parquet([{listing}], hive_partitioning=true, union_by_name=true)"
