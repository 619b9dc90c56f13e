"""Disclosure control in k mode (SPEC §4).

A cell is published only if it counts at least ``k`` distinct people. A
magnitude (a summed measure) is published only in cells that pass ``k`` and
where no single person contributes more than ``dominance`` of the cell's
total; otherwise that value is withheld (left empty). Suppressed cells are left
out and counted. No totals are added, so nothing is derivable by subtraction.
Estimates of everyone (sums of the cell's people's weights) are published in
the cells that pass, with the measure they estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

from popflow.indicators.base import Contribution
from popflow.indicators.estimates import estimate_sums, published_estimates


@dataclass(frozen=True)
class KAnonymity:
    """The k-mode mechanism with its settings (from the workspace, never literals)."""

    k: int
    dominance: float

    def describe(self) -> dict:
        return {"mode": "k", "k": self.k, "dominance": self.dominance, "epsilon_spent": 0.0}

    def cells_sql(self, contribution: Contribution, contributions: str, domains=None, extra: str = "") -> str:
        """Cells with their people count, measure totals, largest single contributions and medians
        (and ``extra`` select items)."""
        keys = ", ".join(contribution.keys)
        totals = [(m, "BIGINT") for m in contribution.sums] + [(m, "DOUBLE") for m in contribution.amounts]
        sums = "".join(f", CAST(sum({m}) AS {kind}) AS {m}, max({m}) AS {m}__largest" for m, kind in totals)
        medians = "".join(f", median({m}) AS {m}_median" for m in contribution.medians)
        estimates = estimate_sums(contribution.sums) if contribution.estimated else ""
        return (f"SELECT {keys}, count(*) AS {contribution.people}{sums}{medians}{estimates}{extra} "
                f"FROM {contributions} GROUP BY {keys}")

    def published_sql(self, contribution: Contribution, cells: str, carried: tuple[str, ...] = ()) -> str:
        """Cells of at least k people, with dominated magnitudes withheld and medians rounded
        (and the ``carried`` columns of the cells as they are).

        A median is one person's value; it is rounded to three significant digits
        and published only in cells of at least k people.
        """
        shown = {m: f"{m}__largest <= {self.dominance} * {m}" for m in (*contribution.sums, *contribution.amounts)}
        measures = "".join(f", CASE WHEN {condition} THEN {m} END AS {m}" for m, condition in shown.items())
        medians = "".join(f", {_three_digits(f'{m}_median')} AS {m}_median" for m in contribution.medians)
        if contribution.estimated:
            medians += published_estimates(contribution.people, contribution.sums, shown,
                                          contribution.estimate_error)
        keys = ", ".join(contribution.keys)
        carry = "".join(f", {c}" for c in carried)
        return (f"SELECT {keys}, {contribution.people}{measures}{medians}{carry} FROM {cells} "
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
            for m in (*contribution.sums, *contribution.amounts)
        ) or "0"
        return (f"SELECT count(*) FILTER (WHERE {contribution.people} < {self.k}) AS cells_below_k, "
                f"{dominated} AS magnitudes_dominated FROM {cells}")


def _three_digits(value: str) -> str:
    """SQL rounding a positive number to three significant digits."""
    magnitude = f"pow(10, floor(log10({value})))"
    # floor(x + 0.5) on IEEE doubles, not round(): engines round exact halves differently.
    return f"CASE WHEN {value} > 0 THEN floor({value} / {magnitude} * 100 + 0.5) / 100 * {magnitude} ELSE {value} END"
