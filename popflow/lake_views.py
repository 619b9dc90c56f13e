"""DuckDB views over the committed lake, one per dataset."""

from __future__ import annotations

import duckdb

from popflow.datasets import empty_select
from popflow.ingest.registry import SOURCES
from popflow.lake import Lake
from popflow.sql import literals


def register_lake(con: duckdb.DuckDBPyConnection, lake: Lake, prefix: str = "") -> None:
    """Create a view per dataset over its committed Parquet files (empty when none)."""
    for source in SOURCES:
        create_from_lake(con, f"CREATE OR REPLACE VIEW {prefix}{source}", lake, source)


def create_from_lake(con: duckdb.DuckDBPyConnection, statement: str, lake: Lake, source: str) -> None:
    """Run ``statement AS`` the dataset's committed files in its declared column order.

    A declared column that no file holds (an optional column added to the
    dataset after its files were written) reads as NULL: only when the
    statement cannot bind are the files' columns looked up, so a lake whose
    files hold every column is read once.
    """
    schema, files = SOURCES[source].schema, lake.data_files(source)
    if not files:
        con.execute(f"{statement} AS {empty_select(schema)}")
        return
    read = f"read_parquet([{literals(files)}], hive_partitioning=true, union_by_name=true)"
    try:
        con.execute(f"{statement} AS {_select(schema, read, schema)}")
    except duckdb.BinderException:
        held = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {read}").fetchall()}
        con.execute(f"{statement} AS {_select(schema, read, held)}")


def _select(schema: dict[str, str], read: str, held) -> str:
    """The columns of ``schema`` from ``read``; those not in ``held`` as NULL."""
    cols = ", ".join(f'{_quoted(n) if n in held else "NULL"}::{t} AS "{n}"' for n, t in schema.items())
    return f"SELECT {cols} FROM {read}"


def _quoted(column: str) -> str:
    return f'"{column}"'
