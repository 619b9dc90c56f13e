"""Row checks shared by the sources: each names a quarantine reason and the column at fault.

A check is a SQL condition over a batch's parsed columns that is true when the
row is bad. The first failing check of a row gives its reason. What the
quarantine keeps of a bad row is declared once, by ``Record``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from popflow.pseudonymise import KeyRing

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


def classified_sql(checks: list[Check], relation: str) -> str:
    """SQL selecting ``relation`` with ``reason`` and ``column`` naming the first failing check (NULL when good).

    Each condition is evaluated once per row: the number of the first failing
    check picks both names.
    """
    if not checks:
        return f"SELECT *, NULL::VARCHAR AS reason, NULL::VARCHAR AS \"column\" FROM {relation}"
    failed = " ".join(f"WHEN {c.bad_when} THEN {number}" for number, c in enumerate(checks, start=1))
    reasons = ", ".join(f"'{c.reason}'" for c in checks)
    columns = ", ".join(f"'{c.column}'" for c in checks)
    return (f"SELECT * EXCLUDE (failed_check), [{reasons}][failed_check] AS reason, "
            f"[{columns}][failed_check] AS \"column\" FROM (SELECT *, CASE {failed} END AS failed_check "
            f"FROM {relation})")


RECORD_HASH = "quarantine_hash"  # SQL function of a checking connection: see ``register_record_hash``


@dataclass(frozen=True)
class Record:
    """What the quarantine keeps of a row (the ``record`` column), by one rule for every source.

    ``record`` is a JSON object with an entry per input column:

    - a person identifier, and a ticket or order id, as its keyed pseudonym
      (``pseudonyms``: columns already pseudonymised before any SQL ran);
    - a closed-vocabulary column (an event or cabin type, a gender, a known
      cell or area, an ISO currency, an IATA airport, a 3-digit MCC …) as its
      value, when that value is in the vocabulary (``closed``: SQL true then);
    - anything else, and a closed column's value outside its vocabulary, as
      ``hmac:`` and 16 hex digits: a keyed hash of its text under a key derived
      from the workspace key, so that equal values can be told apart from
      different ones but no raw value (say a phone number that arrived in the
      wrong column) reaches disk. An empty value stays null.

    ``raw`` maps each input column that is not a pseudonym to the SQL of its
    value as read; a closed column's kept value is the column of its name.
    """

    raw: dict[str, str]
    closed: dict[str, str] = field(default_factory=dict)
    pseudonyms: tuple[str, ...] = ("person",)

    def query(self, ctes: list[tuple[str, str]], checks: list[Check], kept: str) -> str:
        """A source's parse query: the ``(name, SQL)`` steps from ``raw`` to a relation holding every column the
        checks read, each row then classified by its first failing check, and the columns ``kept`` with the
        input ``line``, the ``reason`` and ``column`` of the failure and this ``record`` for the quarantine."""
        steps = ", ".join(f"{name} AS ({sql}\n    )" for name, sql in ctes)
        return f"""
    WITH {steps}, classified AS (
        {classified_sql(checks, ctes[-1][0])}
    )
    SELECT {kept}, line, reason, "column", {self.sql()} AS record FROM classified
    """

    def sql(self) -> str:
        """``record`` of a row that failed a check (NULL for a good one); ``reason`` must be in scope."""
        entries = {name: f"{name}::VARCHAR" for name in self.pseudonyms}
        for name, raw in self.raw.items():
            if name in self.closed:
                entries[name] = f"CASE WHEN coalesce({self.closed[name]}, FALSE) THEN {name}::VARCHAR ELSE " \
                                f"{hashed(raw)} END"
            else:
                entries[name] = hashed(raw)
        return f"CASE WHEN reason IS NOT NULL THEN {_json(entries)} END"

    def of_accepted(self, table: str, columns: list[str]) -> str:
        """``record`` of an accepted row of ``table`` (with dataset ``columns``) refused by a rule over rows.

        Its values passed every check, so closed columns are in their vocabulary.
        """
        kept = (*self.pseudonyms, *self.closed)
        names = [n for n in (*self.pseudonyms, *self.raw) if n in columns]
        return _json({n: f"{table}.{n}::VARCHAR" if n in kept else hashed(f"{table}.{n}") for n in names})


def hashed(value: str) -> str:
    """SQL of a value's keyed hash as ``hmac:`` and 16 hex digits (NULL stays NULL)."""
    return f"{RECORD_HASH}(({value})::VARCHAR)"


def _json(entries: dict[str, str]) -> str:
    return "to_json({" + ", ".join(f"'{name}': {sql}" for name, sql in entries.items()) + "})::VARCHAR"


def register_record_hash(con, keys: KeyRing) -> None:
    """Give a DuckDB connection the ``hashed`` SQL function, keyed by the workspace's quarantine key."""

    def tags(values: pa.Array) -> pa.Array:
        return pa.array([None if v is None else f"hmac:{v & 0xFFFF_FFFF_FFFF_FFFF:016x}"
                         for v in keys.values.column(values).to_pylist()], pa.string())

    with contextlib.suppress(duckdb.InvalidInputException):  # not registered yet
        con.remove_function(RECORD_HASH)
    con.create_function(RECORD_HASH, tags, ["VARCHAR"], "VARCHAR", type="arrow")
