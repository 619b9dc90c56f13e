"""The quarantine's schema and empty queries of a schema (DuckDB types; Parquet on disk).

Each dataset's own schema is declared by its source (``SourceSpec.schema``).
"""

from __future__ import annotations

from popflow import columns as c

QUARANTINE_SCHEMA: dict[str, str] = {
    c.SOURCE: "VARCHAR", c.FILE: "VARCHAR", c.LINE: "BIGINT", c.REASON: "VARCHAR",
    c.COLUMN: "VARCHAR", c.RECORD: "VARCHAR",
}

def empty_select(schema: dict[str, str]) -> str:
    """A SQL query with the schema's columns and no rows."""
    cols = ", ".join(f'NULL::{t} AS "{n}"' for n, t in schema.items())
    return f"SELECT {cols} LIMIT 0"
