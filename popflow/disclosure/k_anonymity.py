"""Disclosure control in k mode (SPEC §4).

A cell is published only if it counts at least ``k`` distinct people. A
magnitude (a summed measure) is published only in cells that pass ``k`` and
where no single person contributes more than ``dominance`` of the cell's
total; otherwise that value is withheld (left empty). Suppressed cells are left
out and counted. No totals are added, so nothing is derivable by subtraction.
"""

from __future__ import annotations

from dataclasses import dataclass

from popflow.indicators.base import Contribution


@dataclass(frozen=True)
class KAnonymity:
    """The k-mode mechanism with its settings (from the workspace, never literals)."""

    k: int
    dominance: float

    def describe(self) -> dict:
        return {"mode": "k", "k": self.k, "dominance": self.dominance, "epsilon_spent": 0.0}

    def cells_sql(self, contribution: Contribution, contributions: str, domains=None) -> str:
        """Cells with their people count, measure totals and largest single contributions."""
        keys = ", ".join(contribution.keys)
        sums = "".join(f", sum({m})::BIGINT AS {m}, max({m}) AS {m}__largest" for m in contribution.sums)
        return f"SELECT {keys}, count(*) AS {contribution.people}{sums} FROM {contributions} GROUP BY {keys}"

    def published_sql(self, contribution: Contribution, cells: str) -> str:
        """Cells of at least k people, with dominated magnitudes withheld."""
        measures = "".join(
            f", CASE WHEN {m}__largest <= {self.dominance} * {m} THEN {m} END AS {m}" for m in contribution.sums
        )
        keys = ", ".join(contribution.keys)
        return (f"SELECT {keys}, {contribution.people}{measures} FROM {cells} "
                f"WHERE {contribution.people} >= {self.k}")

    def publish(self, eng, contribution: Contribution, cells: str, domains=None):
        """Published cells and counts of what was suppressed."""
        published = eng.table(self.published_sql(contribution, cells))
        suppressed = eng.table(self.suppression_sql(contribution, cells)).to_pylist()[0]
        return published, suppressed

    def suppression_sql(self, contribution: Contribution, cells: str) -> str:
        """Counts of cells left out (below k) and of magnitudes withheld (dominance)."""
        dominated = " + ".join(
            f"count(*) FILTER (WHERE {contribution.people} >= {self.k} AND {m}__largest > {self.dominance} * {m})"
            for m in contribution.sums
        ) or "0"
        return (f"SELECT count(*) FILTER (WHERE {contribution.people} < {self.k}) AS cells_below_k, "
                f"{dominated} AS magnitudes_dominated FROM {cells}")
