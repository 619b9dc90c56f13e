"""Disclosure control in ckm mode: the cell key method (SPEC §4), as for the UK 2021 Census and ABS TableBuilder.

- **Record key**: each person gets a secret whole number in 0–255, the first
  two hex digits of md5(salt | person) where the salt is derived from the
  workspace key (so nobody without the key can compute a record key).
- **Cell key** = the sum of the record keys of the cell's people, plus a secret
  offset for the set of breakdowns the cell is defined by (none for cells
  without breakdowns), modulo 256: the same people in the same kind of cell
  give the same cell key in every release, whatever its level, window or
  bins. The offset keeps a total and a breakdown cell holding the very same
  people (everyone in an area from one region) from being perturbed alike,
  so "total minus published breakdown cells" is noise even there, and a
  person with a rare attribute cannot be followed hour by hour.
- **Perturbation**: a cell of ``n`` people is published as ``n + p`` where ``p``
  is looked up in the perturbation table by (n, cell key). Cells of fewer than
  k people are suppressed first (as in k mode), and k exceeds the maximum
  perturbation, so the table needs one row per cell key: ``p`` is the
  (π(cell key) + ½) ÷ 256 quantile, where π is a fixed pseudo-random
  permutation of 0–255 (keys ordered by SHA-256 of their decimal text), so
  that keys a constant apart are perturbed as if independently, of a
  discretised Gaussian on
  [−``max_perturbation``, +``max_perturbation``] with mean 0 and variance
  ``variance`` (settings ``ckm_max_perturbation``, ``ckm_variance``, recorded in
  the manifest). Subtracting releases therefore yields noise, not the people
  left out, and repeating a release gives the same numbers, so averaging
  repeats learns nothing.
- **Magnitudes**: summed whole-number measures (trips, nights) get their own
  perturbation, looked up with the cell key shifted by 128; money follows the
  dominance rule of k mode. Estimates of everyone are scaled by the cell's
  perturbed ÷ true count, so they follow the perturbed counts.

Everything runs in the engine's SQL (``md5``, sums, a join with the table),
so DuckDB and Spark give identical results. The live view counts in numpy,
so it computes record keys with ``record_key`` (the same md5 in Python) and
publishes through ``CellKeyMethod.publish`` like a release.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import pyarrow as pa

from popflow.columns import BREAKDOWNS
from popflow.disclosure.k_anonymity import KAnonymity
from popflow.indicators.base import Contribution
from popflow.indicators.estimates import ESTIMATE, ESTIMATE_HIGH, ESTIMATE_LOW, tenths

KEYS = 256
CELL_KEY = "cell_key__"
RECORD_KEY = "record_key__"
TABLE = "perturbation"
HEX = "0123456789abcdef"


def perturbation_table(max_perturbation: int, variance: float) -> pa.Table:
    """``ckey, pvalue``: the perturbation of each cell key (see the module docstring)."""
    sigma = _sigma(max_perturbation, variance)
    values = range(-max_perturbation, max_perturbation + 1)
    weights = [math.exp(-v * v / (2 * sigma * sigma)) for v in values]
    total, cumulative, bounds = sum(weights), 0.0, []
    for w in weights:
        cumulative += w / total
        bounds.append(cumulative)
    shuffled = sorted(range(KEYS), key=lambda key: hashlib.sha256(str(key).encode()).digest())
    rank = {key: position for position, key in enumerate(shuffled)}
    pvalues = [next(v for v, b in zip(values, bounds, strict=True) if (rank[key] + 0.5) / KEYS <= b + 1e-12)
               for key in range(KEYS)]
    return pa.table({"ckey": pa.array(range(KEYS), pa.int64()), "pvalue": pa.array(pvalues, pa.int64())})


def _sigma(max_perturbation: int, variance: float) -> float:
    """The Gaussian's σ whose discretisation on [−D, D] has the given variance (bisection)."""
    def discrete_variance(sigma: float) -> float:
        weights = {v: math.exp(-v * v / (2 * sigma * sigma)) for v in range(-max_perturbation, max_perturbation + 1)}
        return sum(v * v * w for v, w in weights.items()) / sum(weights.values())

    low, high = 1e-3, 1e3
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if discrete_variance(mid) < variance else (low, mid)
    return (low + high) / 2


def record_key_sql(salt: str) -> str:
    """SQL: a person's record key, 0–255, from the first two hex digits of md5(salt | person)."""
    digest = f"md5(concat_ws('|', '{salt}', person::VARCHAR))"
    return (f"(16 * (strpos('{HEX}', substr({digest}, 1, 1)) - 1) + strpos('{HEX}', substr({digest}, 2, 1)) - 1)")


def record_key(salt: str, person: int) -> int:
    """Python twin of ``record_key_sql`` (for the live view, which counts without SQL): the first byte of
    md5 over the same text, the salt, ``|`` and the pseudonym in decimal."""
    return hashlib.md5(f"{salt}|{int(person)}".encode()).digest()[0]


@dataclass(frozen=True)
class CellKeyMethod(KAnonymity):
    """The ckm mechanism: k-anonymity's suppression and dominance, then cell-key perturbation."""

    max_perturbation: int = 3
    variance: float = 1.0
    salt: str = ""

    def describe(self) -> dict:
        return {"mode": "ckm", "k": self.k, "dominance": self.dominance, "max_perturbation": self.max_perturbation,
                "variance": self.variance, "epsilon_spent": 0.0}

    def cells_sql(self, contribution: Contribution, contributions: str, domains=None) -> str:
        """k mode's cells with the cell key: the sum of the people's record keys modulo 256."""
        keyed = f"(SELECT *, {record_key_sql(self.salt)} AS {RECORD_KEY} FROM {contributions})"
        offset = self.breakdown_offset(contribution.keys)
        return super().cells_sql(contribution, keyed, domains,
                                 extra=f", (sum({RECORD_KEY}) + {offset}) % {KEYS} AS {CELL_KEY}")

    def breakdown_offset(self, keys: tuple[str, ...]) -> int:
        """The secret cell-key offset of the set of breakdowns among ``keys`` (0 without breakdowns)."""
        dimensions = sorted(set(keys) & set(BREAKDOWNS))
        if not dimensions:
            return 0
        digest = hashlib.sha256(f"{self.salt}|{','.join(dimensions)}".encode()).digest()
        return int.from_bytes(digest[:4], "big") % KEYS

    def publish(self, eng, contribution: Contribution, cells: str, domains=None):
        """Perturbed cells of at least k people, and counts of what was suppressed."""
        eng.register(TABLE, perturbation_table(self.max_perturbation, self.variance))
        published = eng.table(self.perturbed_sql(contribution, cells))
        suppressed = eng.table(self.suppression_sql(contribution, cells)).to_pylist()[0]
        return published, suppressed

    def perturbed_sql(self, contribution: Contribution, cells: str) -> str:
        people = contribution.people
        columns = [*contribution.keys, f"c.{people} + p.pvalue AS {people}"]
        columns += [f"c.{m} + q.pvalue AS {m}" for m in contribution.sums]
        columns += [*contribution.amounts, *(f"{m}_median" for m in contribution.medians)]
        if contribution.estimated:
            ratio = f"CAST(c.{people} + p.pvalue AS DOUBLE) / c.{people}"
            columns += [f"{tenths(f'c.{name} * {ratio}')} AS {name}"
                        for name in (ESTIMATE, ESTIMATE_LOW, ESTIMATE_HIGH,
                                     *(f"{m}_{ESTIMATE}" for m in contribution.sums))]
        return (f"SELECT {', '.join(columns)} FROM ({self.published_sql(contribution, cells, (CELL_KEY,))}) c "
                f"JOIN {TABLE} p ON p.ckey = c.{CELL_KEY} "
                f"JOIN {TABLE} q ON q.ckey = (c.{CELL_KEY} + {KEYS // 2}) % {KEYS}")
