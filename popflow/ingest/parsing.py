"""SQL that parses raw input columns, whatever their Arrow type."""

from __future__ import annotations

import pyarrow as pa

# Epoch seconds accepted as times: 1970 to 2100.
_MAX_EPOCH = 4_102_444_800


def instant_sql(column: str, kind: pa.DataType) -> str:
    """An instant (TIMESTAMPTZ) from ISO 8601 text or epoch seconds; NULL when unparsable.

    ISO text without an offset is read in the workspace time zone (the session's).
    """
    if pa.types.is_timestamp(kind):
        return f"{column}::TIMESTAMPTZ"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return _epoch_sql(f"{column}::DOUBLE")
    text = f"{column}::VARCHAR"
    return f"coalesce(try_cast({text} AS TIMESTAMPTZ), {_epoch_sql(f'try_cast({text} AS DOUBLE)')})"


def _epoch_sql(seconds: str) -> str:
    return f"CASE WHEN {seconds} BETWEEN 0 AND {_MAX_EPOCH} THEN to_timestamp({seconds}) END"


def text_sql(column: str) -> str:
    """A column as text (text columns arrive trimmed, with empty values as NULL)."""
    return f"{column}::VARCHAR"


def number_sql(column: str, sql_type: str = "DOUBLE") -> str:
    """A number, NULL when not numeric (check ``text_sql`` for emptiness first)."""
    return f"try_cast({column}::VARCHAR AS {sql_type})"


def date_sql(column: str, kind: pa.DataType) -> str:
    """A calendar date from a date, a timestamp or text."""
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return f"{column}::DATE"
    return f"try_cast(try_cast({column}::VARCHAR AS TIMESTAMP) AS DATE)"
