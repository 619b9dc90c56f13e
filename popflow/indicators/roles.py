"""The role of each column an indicator releases, read from its declarations (for the API and the dashboard).

Roles: ``time`` (the first key that is not a label: a bin, date, week, month or the later period of a move),
``label`` (a key that names rather than divides a series: a currency, the earlier period of a move), ``area``
(area ids of the release's level), ``category`` (any other key: a breakdown such as gender, age band, origin
region, visitor type, origin or destination country), ``count`` (people and summed counts, and their
estimates), ``interval`` (the bounds of an estimate's 90 % interval), ``money`` (summed amounts and medians of
amounts, in the ``currency`` column's currency, or the base currency), ``share`` (a fraction of 1), ``change``
(a relative change) and ``rank``.
"""

from __future__ import annotations

import dataclasses

from popflow.columns import BREAKDOWNS
from popflow.indicators.base import Contribution, Indicator
from popflow.indicators.estimates import ESTIMATE, ESTIMATE_HIGH, ESTIMATE_LOW

RANK = "rank"


def contribution_roles(c: Contribution) -> dict[str, str]:
    """Column → role for one contribution's released table (its estimates included when it has them)."""
    keys = [k for k in c.keys if k not in c.labels]
    roles = {k: "time" if i == 0 else "area" if k in c.areas else "category" for i, k in enumerate(keys)}
    roles |= {k: "label" for k in c.labels}
    roles |= {m: "count" for m in (c.people, *c.sums)}
    roles |= {m: "money" for m in (*c.amounts, *(f"{m}_median" for m in c.medians))}
    if c.estimated:
        roles |= {ESTIMATE: "count", ESTIMATE_LOW: "interval", ESTIMATE_HIGH: "interval"}
        roles |= {f"{m}_{ESTIMATE}": "count" for m in c.sums}
    return roles


def column_roles(indicator: Indicator) -> dict:
    """Every column the indicator may release with its role, its flow pair, its currency column and the key
    columns of each contribution's table (with the default parameters).

    Breakdowns (``--by``) are categories; columns added after disclosure (``Indicator.measures``) are
    counts unless declared shares or changes.
    """
    contributions = [] if indicator.derive else indicator.define(indicator.params())
    takes_by = "by" in {f.name for f in dataclasses.fields(indicator.params)}
    roles: dict[str, str] = dict.fromkeys(BREAKDOWNS if takes_by else (), "category")
    for c in contributions:
        roles = contribution_roles(c) | roles
    for m in indicator.measures:
        roles.setdefault(m, "share" if m in indicator.shares else "change" if m in indicator.changes else "count")
    roles[RANK] = "rank"
    flow = next((list(c.flow) for c in contributions if c.flow), None)
    currency = next((c.currency for c in contributions if c.currency), None)
    tables = {c.table: list(c.keys) for c in contributions}
    return {"columns": roles, "flow": flow, "currency": currency, "tables": tables}

