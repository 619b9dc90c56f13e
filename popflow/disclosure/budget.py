"""The privacy budget: ε and δ spent per person-month, read from the audit log (SPEC §4).

A person's data of one calendar month is protected by the sum of what every dp
release reading that month spent (basic sequential composition), whatever
person-level sources it read (events, the subscriber register, tickets,
sales): one budget per person-month, ``privacy_budget`` in ε and
``delta_budget`` in δ. A release is charged in every month whose data it reads,
look-back, carried bins and the night after its last day included.

The ledger is not a file of its own: each dp release's audit line carries its
charge, and the spent budget is the sum of the charges in the audit log. A
charge is checked and written under the log's lock in the same step as the
audit line, so there is no charge without an audit line, and deleting or
editing anything but the (keyed, chained) log resets nothing. A log that fails
verification refuses every dp release until it is restored.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from popflow import audit
from popflow.errors import PopflowError

CHARGE = "charge"  # the audit line's field holding a dp release's months, ε and δ


def months_of(first: datetime.date, last: datetime.date) -> list[str]:
    """Calendar months (YYYY-MM) a span of dates touches."""
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day.strftime("%Y-%m"))
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    return months


class BudgetLedger:
    """Privacy spent per month in one workspace, from its audit log."""

    def __init__(self, workspace: Path, epsilon_limit: float, delta_limit: float):
        self.log = workspace / audit.AUDIT_FILE
        self.limit, self.delta_limit = epsilon_limit, delta_limit

    def spent(self) -> dict[str, dict[str, float]]:
        """{month: {"epsilon": spent, "delta": spent}} over the charges of the audit log, which must verify."""
        _, bad = audit.verify(self.log)
        if bad is not None:
            raise PopflowError(f"audit log broken at line {bad}: the privacy spent cannot be known, so dp "
                               "releases are refused until the log is restored")
        spent: dict[str, dict[str, float]] = {}
        for record in audit.read(self.log):
            charge = record.get(CHARGE)
            for month in (charge or {}).get("months", []):
                entry = spent.setdefault(month, {"epsilon": 0.0, "delta": 0.0})
                entry["epsilon"] = round(entry["epsilon"] + charge["epsilon"], 12)
                entry["delta"] += charge["delta"]
        return spent

    def check(self, months: list[str], epsilon: float, delta: float) -> None:
        """Refuse, with a clear message, a release that would exceed the ε or δ budget of a month."""
        self.check_needs({month: (epsilon, delta) for month in months}, "this release")

    def check_needs(self, needs: dict[str, tuple[float, float]], who: str) -> None:
        """Refuse, naming ``who`` needs it, spending (ε, δ) per month that would exceed a month's budget."""
        spent = self.spent()
        for month, (epsilon, delta) in sorted(needs.items()):
            e, d = spent.get(month, {}).get("epsilon", 0.0), spent.get(month, {}).get("delta", 0.0)
            if e + epsilon > self.limit + 1e-12:
                raise PopflowError(f"privacy budget exceeded: {month} has spent ε={e:g} of {self.limit:g}; {who} "
                                   f"needs ε={epsilon:g} (remaining ε={self.limit - e:g})")
            if d + delta > self.delta_limit * (1 + 1e-9):
                raise PopflowError(f"privacy budget exceeded: {month} has spent δ={d:g} of {self.delta_limit:g}; "
                                   f"{who} needs δ={delta:g}")

    def charge(self, months: list[str], epsilon: float, delta: float, entry: dict) -> dict:
        """Append ``entry`` to the audit log with its charge, the log verified and the budget checked under the
        log's lock."""
        charged = {**entry, CHARGE: {"months": months, "epsilon": epsilon, "delta": delta}}
        return audit.append(self.log, charged, check=lambda: self.check(months, epsilon, delta))

    def rows(self) -> list[dict]:
        """Spent and remaining per month, for display."""
        return [{"month": m, "epsilon_spent": e["epsilon"], "delta_spent": e["delta"],
                 "epsilon_remaining": round(self.limit - e["epsilon"], 12)}
                for m, e in sorted(self.spent().items())]
