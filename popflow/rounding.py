"""Released numbers as text (CSV, GeoJSON, the HTTP API's JSON): rounded by each column's declared role.

A column's role is declared where the column is born: a contribution's
``amounts`` are money and its ``medians`` medians, an indicator's ``shares`` and
``changes`` are shares, rates and relative changes of published cells. ``with_roles`` records the
roles on the release's tables as Arrow field metadata, which Parquet keeps, so
the CLI writing a file and the service reading a stored release round alike:

- money: to the minor unit of the row's ``currency`` (ISO 4217: 2 decimals for
  CNY, none for JPY, 3 for KWD), or 2 decimals when the table names no currency
  or the currency has no minor unit;
- medians: to 3 significant digits, the precision disclosure control releases them at;
- shares: to 4 significant digits.

Parquet files keep full precision; columns without a role are written as computed.
"""

from __future__ import annotations

import functools

import iso4217
import pyarrow as pa

from popflow.indicators.roles import contribution_roles

ROLE = b"popflow.role"
MONEY, MEDIAN, SHARE = "money", "median", "share"
SIGNIFICANT_DIGITS = {MEDIAN: 3, SHARE: 4}
CURRENCY = "currency"  # the column naming the currency of a row's money
DEFAULT_MINOR_UNIT = 2


def column_roles(indicator, params) -> dict[str, str]:
    """Column → rounding role, from the columns' declared roles (``popflow.indicators.roles``) for ``params``:
    money, medians (of money) and the indicator's shares and changes."""
    roles = {}
    for contribution in indicator.define(params):
        roles |= {column: MONEY for column, role in contribution_roles(contribution).items() if role == "money"}
        roles |= dict.fromkeys((f"{m}_median" for m in contribution.medians), MEDIAN)
    return roles | dict.fromkeys((*indicator.shares, *indicator.changes), SHARE)


def with_roles(table: pa.Table, roles: dict[str, str]) -> pa.Table:
    """The table with each role recorded on its column's field."""
    fields = [f.with_metadata({**(f.metadata or {}), ROLE: roles[f.name].encode()}) if f.name in roles else f
              for f in table.schema]
    return pa.Table.from_arrays(table.columns, schema=pa.schema(fields, table.schema.metadata))


def rounded(table: pa.Table) -> pa.Table:
    """The table with every column that has a role rounded for text (see the module's docstring)."""
    for index, field in enumerate(table.schema):
        role = (field.metadata or {}).get(ROLE, b"").decode()
        if role == MONEY:
            column = _money(table.column(index), table.column(CURRENCY) if CURRENCY in table.column_names else None)
        elif role in SIGNIFICANT_DIGITS:
            column = _significant(table.column(index), SIGNIFICANT_DIGITS[role])
        else:
            continue
        table = table.set_column(index, field, column.cast(field.type))
    return table


@functools.cache
def minor_unit(currency: str | None) -> int:
    """Decimal places of a currency's minor unit (ISO 4217), 2 when unknown or without one."""
    try:
        exponent = iso4217.Currency(currency).exponent
    except ValueError:
        return DEFAULT_MINOR_UNIT
    return DEFAULT_MINOR_UNIT if exponent is None else exponent


def _money(values: pa.ChunkedArray, currencies: pa.ChunkedArray | None) -> pa.Array:
    places = [minor_unit(c) for c in currencies.to_pylist()] if currencies is not None else None
    return pa.array([v if v is None or v != v else round(v, places[i] if places else DEFAULT_MINOR_UNIT)
                     for i, v in enumerate(values.to_pylist())], pa.float64())


def _significant(values: pa.ChunkedArray, digits: int) -> pa.Array:
    return pa.array([v if v is None or v != v else float(f"{v:.{digits}g}") for v in values.to_pylist()],
                    pa.float64())
