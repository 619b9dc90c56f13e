"""SQL that parses raw input columns, whatever their Arrow type."""

from __future__ import annotations

import pyarrow as pa

# Epoch seconds beyond this (about the year 5000) do not fit a timestamp safely: read as +-infinity.
_MAX_EPOCH = 10**11
# ISO text whose year has five digits or more.
_HUGE_YEAR = r"^[+-]?[0-9]{5,}-[0-9]{1,2}-[0-9]{1,2}"


def instant_sql(column: str, kind: pa.DataType) -> str:
    """An instant (TIMESTAMPTZ) from ISO 8601 text or epoch seconds; NULL when unparsable.

    ISO text without an offset is local time in the workspace time zone (the
    session's). A local time that does not exist, in the hour skipped when
    clocks go forward (2026-03-08T02:30 in America/New_York), is read with the
    offset in force before the change, i.e. as the instant one hour later on
    the new clock (03:30 EDT = 07:30 UTC), as if the clocks had moved with it.
    A local time that occurs twice, when clocks go back, is the later
    occurrence (standard time: 2026-11-01T01:30 in New York is 06:30 UTC).

    A time too far out to be held (``infinity``, ``-infinity``, ``inf``, a year
    of five digits, epoch seconds beyond about the year 5000) is read as
    +-infinity, so that the time window check (``IngestContext.plausible_sql``)
    sets it apart from unparsable text. ``NaN`` is unparsable.
    """
    if pa.types.is_timestamp(kind):
        return f"{column}::TIMESTAMPTZ"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return _epoch_sql(f"{column}::DOUBLE")
    text = f"{column}::VARCHAR"
    huge = f"CASE WHEN regexp_matches({text}, '{_HUGE_YEAR}') THEN 'infinity'::TIMESTAMPTZ END"
    return f"coalesce(try_cast({text} AS TIMESTAMPTZ), {_epoch_sql(f'try_cast({text} AS DOUBLE)')}, {huge})"


def _epoch_sql(seconds: str) -> str:
    return (f"CASE WHEN isnan({seconds}) THEN NULL WHEN {seconds} > {_MAX_EPOCH} THEN 'infinity'::TIMESTAMPTZ "
            f"WHEN {seconds} < -{_MAX_EPOCH} THEN '-infinity'::TIMESTAMPTZ ELSE to_timestamp({seconds}) END")


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
