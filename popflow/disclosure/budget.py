"""The privacy budget ledger: ε and δ spent per source per calendar month (SPEC §4).

A DP release over a window charges its ε and δ to every person-level source
it reads, in every month the window touches (a person's data in one month is
protected by the sum of what all releases touching that month spent: basic
sequential composition). A release that would take any month past
``privacy_budget`` is refused before any work is done. The ledger is
``budget.json`` in the workspace, rewritten atomically under a lock.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
from pathlib import Path

from popflow.errors import PopflowError

LEDGER_FILE = "budget.json"
_LOCK_FILE = ".budget.lock"


def months_of(first: datetime.date, last: datetime.date) -> list[str]:
    """Calendar months (YYYY-MM) a window touches."""
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day.strftime("%Y-%m"))
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    return months


class BudgetLedger:
    """Spent privacy budget of one workspace."""

    def __init__(self, workspace: Path, limit: float):
        self.path = workspace / LEDGER_FILE
        self.lock = workspace / _LOCK_FILE
        self.limit = limit

    def read(self) -> dict:
        """{source: {month: {"epsilon": spent, "delta": spent}}}."""
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def check(self, sources: list[str], months: list[str], epsilon: float) -> None:
        """Refuse, with a clear message, a release that would exceed the budget."""
        ledger = self.read()
        for source in sources:
            for month in months:
                spent = ledger.get(source, {}).get(month, {}).get("epsilon", 0.0)
                if spent + epsilon > self.limit + 1e-12:
                    raise PopflowError(
                        f"privacy budget exceeded: {source} in {month} has spent ε={spent:g} of "
                        f"{self.limit:g}; this release needs ε={epsilon:g} (remaining ε={self.limit - spent:g})")

    def charge(self, sources: list[str], months: list[str], epsilon: float, delta: float,
               record=lambda: None) -> None:
        """Record a release's cost (checked again under the lock) together with ``record()``, its audit line.

        ``record`` runs under the lock after the check and before the ledger is
        written: if it fails, nothing is charged.
        """
        with self._locked():
            self.check(sources, months, epsilon)
            record()
            ledger = self.read()
            for source in sources:
                for month in months:
                    entry = ledger.setdefault(source, {}).setdefault(month, {"epsilon": 0.0, "delta": 0.0})
                    entry["epsilon"] = round(entry["epsilon"] + epsilon, 12)
                    entry["delta"] = entry["delta"] + delta
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(ledger, indent=2, sort_keys=True))
            os.replace(tmp, self.path)

    def rows(self) -> list[dict]:
        """Spent and remaining per source and month, for display."""
        return [{"source": s, "month": m, "epsilon_spent": e["epsilon"], "delta_spent": e["delta"],
                 "epsilon_remaining": round(self.limit - e["epsilon"], 12)}
                for s, months in sorted(self.read().items()) for m, e in sorted(months.items())]

    @contextlib.contextmanager
    def _locked(self):
        with self.lock.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield
