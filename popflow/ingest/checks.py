"""Row checks shared by the sources: each names a quarantine reason and the column at fault.

A check is a SQL condition over a batch's parsed columns that is true when the
row is bad. The first failing check of a row gives its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

MISSING_FIELD = "missing_field"
UNPARSABLE_TIME = "unparsable_time"
IMPLAUSIBLE_TIME = "implausible_time"
UNKNOWN_CELL = "unknown_cell"
CELL_OUTSIDE_AREAS = "cell_outside_areas"
INVALID_VALUE = "invalid_value"
NEGATIVE_AMOUNT = "negative_amount"
DUPLICATE_KEY = "duplicate_key"
UNKNOWN_AREA = "unknown_area"
MALFORMED_ROW = "malformed_row"
INVALID_GEOMETRY = "invalid_geometry"
OVERLAPPING_VALIDITY = "overlapping_validity"
UNKNOWN_AIRPORT = "unknown_airport"
UNKNOWN_CURRENCY = "unknown_currency"
DEPARTURE_BEFORE_PURCHASE = "departure_before_purchase"
AMBIGUOUS_BASE_CURRENCY = "ambiguous_base_currency"

REASONS = {
    MISSING_FIELD: "a required field is empty",
    UNPARSABLE_TIME: "a time that is not ISO 8601 or epoch seconds",
    IMPLAUSIBLE_TIME: "a time outside the workspace's time_window (infinity and years that do not fit included)",
    UNKNOWN_CELL: "a cell_id not in the cells table (or not valid at that time)",
    CELL_OUTSIDE_AREAS: "the event's cell lies outside every area",
    INVALID_VALUE: "a value outside the allowed set or range",
    NEGATIVE_AMOUNT: "a negative count or amount",
    DUPLICATE_KEY: "the row's key was already seen in this or an earlier ingest",
    UNKNOWN_AREA: "an area_id or parent_id not among the ingested areas",
    MALFORMED_ROW: "a CSV row with the wrong number of fields",
    INVALID_GEOMETRY: "an area without a valid polygon geometry",
    OVERLAPPING_VALIDITY: "a cell version whose validity overlaps another version of that cell",
    UNKNOWN_AIRPORT: "an origin or destination that is not an IATA airport code",
    UNKNOWN_CURRENCY: "a currency that is not an ISO 4217 code",
    DEPARTURE_BEFORE_PURCHASE: "a ticket departing before it was bought",
    AMBIGUOUS_BASE_CURRENCY: "a second currency at rate 1 on one date: which one is the base is ambiguous",
}


@dataclass(frozen=True)
class Check:
    """A quarantine rule: ``bad_when`` is SQL true for a bad row."""

    reason: str
    column: str
    bad_when: str


def missing(*columns: str) -> list[Check]:
    """One check per required column: empty or null is bad."""
    return [Check(MISSING_FIELD, c, f"{c} IS NULL") for c in columns]


def timed(name: str, column: str) -> list[Check]:
    """Checks of a time parsed as ``{name}_any`` and kept as ``{name}`` when inside the time window."""
    return [Check(UNPARSABLE_TIME, column, f"{name}_any IS NULL"), Check(IMPLAUSIBLE_TIME, column, f"{name} IS NULL")]


def amount(column: str, value: str) -> list[Check]:
    """An amount of money: a finite number (not NaN or infinite), not negative."""
    return [Check(INVALID_VALUE, column, f"{value} IS NULL OR NOT isfinite({value})"),
            Check(NEGATIVE_AMOUNT, column, f"{value} < 0")]


def classify_sql(checks: list[Check]) -> str:
    """SQL columns ``reason`` and ``column`` naming the first failing check (NULL when good)."""
    if not checks:
        return "NULL::VARCHAR AS reason, NULL::VARCHAR AS \"column\""
    reason = " ".join(f"WHEN {c.bad_when} THEN '{c.reason}'" for c in checks)
    column = " ".join(f"WHEN {c.bad_when} THEN '{c.column}'" for c in checks)
    return f"CASE {reason} END AS reason, CASE {column} END AS \"column\""
