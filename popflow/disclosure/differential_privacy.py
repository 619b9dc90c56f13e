"""User-level differential privacy (SPEC §4, dp mode), with OpenDP's vetted mechanisms.

Unit of privacy: one person and all their events in the release window.

1. **Bounding** (in the engine, one SQL for every engine): each person keeps at
   most ``max_contrib`` cells per table; when they have more, the cells kept are
   those with the smallest keyed hash md5(salt | person | cell keys), a
   deterministic sample that favours no part of the key space. The salt is
   derived from the workspace key, so nobody can predict the sample. Each
   summed measure is clipped to ``max_value`` per person and cell.
2. **Noise**: counts (and clipped sums) get discrete Laplace noise whose scale
   OpenDP derives from ε and the sensitivity (L1 = max_contrib, or
   max_contrib × max_value for sums). ε is split evenly over the tables of the
   release and, within a table, over the count and each sum.
3. **Keys**: a table whose key domain is public (time bins, areas, fixed
   categories) is released for every cell, zero counts included. A table with
   data-dependent keys (OD pairs, migration pairs, origin regions) goes through
   OpenDP's Laplace-with-threshold: only cells whose noisy count clears a
   threshold derived from δ are released.

Noisy counts are rounded integers clamped at zero (post-processing). Money
totals and medians (amounts, medians) are not released in dp mode: they are
left empty. Estimates of everyone are the noisy counts times the region's mean
weight (``popflow.indicators.estimates``), post-processing that spends nothing
more; their interval adds the noise's variance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import opendp.prelude as dp
import pyarrow as pa
import pyarrow.compute as pc

from popflow.disclosure.domains import Domains
from popflow.errors import PopflowError
from popflow.indicators.base import Contribution
from popflow.indicators.estimates import ESTIMATE, ESTIMATE_HIGH, ESTIMATE_LOW, SCALE, Z_90

dp.enable_features("contrib")

CONFIDENCE = 0.95
_BIG_THRESHOLD = 2**30


@dataclass(frozen=True)
class DifferentialPrivacy:
    """The dp-mode mechanism for one release."""

    epsilon: float
    delta: float
    max_contrib: int | None  # None: one cell per time slot of the window, capped (Domains)
    max_value: int
    salt: str
    tables: int = 1

    def __post_init__(self):
        if not self.epsilon > 0:
            raise PopflowError("--epsilon must be positive")
        if not 0 < self.delta < 1e-3:
            raise PopflowError("--delta must be in (0, 0.001)")
        if (self.max_contrib is not None and self.max_contrib < 1) or self.max_value < 1:
            raise PopflowError("--max-contrib and --max-value must be at least 1")

    def describe(self) -> dict:
        return {"mode": "dp", "epsilon": self.epsilon, "delta": self.delta,
                "max_contrib": self.max_contrib or "one per time slot, at most 24",
                "max_value": self.max_value, "epsilon_spent": self.epsilon, "unit": "person",
                "mechanism": "OpenDP discrete Laplace (public keys) / Laplace with threshold (data-dependent keys)"}

    def bound(self, contribution: Contribution, domains: Domains) -> int:
        """Cells kept per person in this table."""
        return self.max_contrib or domains.contribution_bound(contribution)

    def cells_sql(self, contribution: Contribution, contributions: str, domains: Domains) -> str:
        """Cells after bounding each person to their cell bound and max_value per sum."""
        keys = ", ".join(contribution.keys)
        order = "md5(concat_ws('|', '{}', person::VARCHAR, {}))".format(
            self.salt, ", ".join(f"{k}::VARCHAR" for k in contribution.keys))
        sums = "".join(f", sum(least({m}, {self.max_value}))::BIGINT AS {m}" for m in contribution.sums)
        # Money totals and medians are released in k mode only.
        sums += "".join(f", CAST(NULL AS DOUBLE) AS {m}" for m in contribution.amounts)
        sums += "".join(f", CAST(NULL AS DOUBLE) AS {m}_median" for m in contribution.medians)
        return f"""
        SELECT {keys}, count(*) AS {contribution.people}{sums} FROM (
            SELECT *, row_number() OVER (PARTITION BY person ORDER BY {order}) AS kept FROM {contributions}
        ) WHERE kept <= {self.bound(contribution, domains)} GROUP BY {keys}"""

    def publish(self, eng, contribution: Contribution, cells: str, domains: Domains):
        """Noisy cells and the noise parameters used."""
        bound = self.bound(contribution, domains)
        keys = domains.declared_by(contribution)
        true = eng.table(f"SELECT * FROM {cells}")
        measures = (contribution.people, *contribution.sums)
        epsilon = self.epsilon / self.tables / len(measures)
        if keys.public(contribution.keys):
            table, info = self._public(true, contribution, keys, epsilon, bound)
        else:
            table, info = self._thresholded(true, contribution, epsilon, bound)
        if contribution.estimated:
            weight = eng.table("SELECT weight FROM default_weight").column("weight")[0].as_py() / SCALE
            table = with_estimates(table, contribution, weight, info[contribution.people]["noise_scale"])
            info["estimate_weight"] = round(weight, 4)
        return table, {"max_contrib": bound, "epsilon": self.epsilon / self.tables, **info}

    def _public(self, true: pa.Table, contribution: Contribution, domains: Domains, epsilon: float, bound: int):
        types = [true.schema.field(k).type for k in contribution.keys]
        full = domains.cells(contribution.keys, types).join(true, list(contribution.keys), join_type="left outer")
        full = full.sort_by([(k, "ascending") for k in contribution.keys])
        info = {"keys": "public", "cells": full.num_rows}
        for measure, sensitivity in self._sensitivities(contribution, bound):
            scale = laplace_scale(sensitivity, epsilon)
            values = pc.fill_null(full[measure], 0).to_pylist()
            full = full.set_column(full.schema.get_field_index(measure), measure,
                                   pa.array(_noisy(values, scale), pa.int64()))
            info[measure] = {"noise_scale": scale, "error_95": round(accuracy(scale), 2)}
        return full, info

    def _thresholded(self, true: pa.Table, contribution: Contribution, epsilon: float, bound: int):
        keys = list(contribution.keys)
        scale, threshold = threshold_parameters(bound, epsilon, self.delta / self.tables)
        counts = {json.dumps(row, default=str): n for row, n in zip(
            true.select(keys).to_pylist(), true[contribution.people].to_pylist(), strict=True)}
        released = _threshold_measurement(scale, threshold)(counts)
        index = {json.dumps(row, default=str): i for i, row in enumerate(true.select(keys).to_pylist())}
        rows = sorted(index[k] for k in released)
        table = true.take(pa.array(rows, pa.int64()))
        table = table.set_column(table.schema.get_field_index(contribution.people), contribution.people,
                                 pa.array([max(0, released[k]) for k in sorted(released, key=index.get)],
                                          pa.int64()))
        info = {"keys": "data-dependent", "threshold": threshold, "cells": table.num_rows,
                contribution.people: {"noise_scale": scale, "error_95": round(accuracy(scale), 2)}}
        for measure, sensitivity in self._sensitivities(contribution, bound)[1:]:
            sum_scale = laplace_scale(sensitivity, epsilon)
            table = table.set_column(table.schema.get_field_index(measure), measure,
                                     pa.array(_noisy(table[measure].to_pylist(), sum_scale), pa.int64()))
            info[measure] = {"noise_scale": sum_scale, "error_95": round(accuracy(sum_scale), 2)}
        return table, info

    def _sensitivities(self, contribution: Contribution, bound: int) -> list[tuple[str, int]]:
        return [(contribution.people, bound), *[(m, bound * self.max_value) for m in contribution.sums]]


def with_estimates(table: pa.Table, contribution: Contribution, weight: float, scale: float) -> pa.Table:
    """Noisy counts scaled to everyone by the region's mean weight (dp spends nothing more on them).

    The 90 % interval adds the noise's variance (2 × scale², scaled by the weight²)
    to the sampling variance of the estimates module.
    """
    people = np.maximum(table[contribution.people].to_numpy(zero_copy_only=False).astype(float), 0)
    estimate = people * weight
    margin = Z_90 * np.sqrt(people * weight * (weight - 1) + 2 * scale**2 * weight**2)
    columns = {ESTIMATE: estimate, ESTIMATE_LOW: np.maximum(people, estimate - margin),
               ESTIMATE_HIGH: estimate + margin}
    for m in contribution.sums:
        columns[f"{m}_{ESTIMATE}"] = np.maximum(table[m].to_numpy(zero_copy_only=False).astype(float), 0) * weight
    for name, values in columns.items():
        table = table.append_column(name, pa.array(np.floor(values * 10 + 0.5) / 10, pa.float64()))
    return table


def laplace_scale(sensitivity: int, epsilon: float) -> float:
    """Scale of discrete Laplace noise giving ε for an L1 sensitivity, found by OpenDP."""
    domain = dp.vector_domain(dp.atom_domain(T=int))
    return dp.binary_search_param(
        lambda s: dp.m.make_laplace(domain, dp.l1_distance(T=int), scale=s), d_in=sensitivity, d_out=epsilon)


def _threshold_measurement(scale: float, threshold: int):
    domain = dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T=int))
    metric = dp.l01inf_distance(dp.absolute_distance(T=int))
    return dp.m.make_laplace_threshold(domain, metric, scale=scale, threshold=threshold)


def threshold_parameters(max_contrib: int, epsilon: float, delta: float) -> tuple[float, int]:
    """Noise scale for ε, then the smallest threshold for δ (OpenDP's privacy maps)."""
    d_in = (max_contrib, max_contrib, 1)
    scale = dp.binary_search(lambda s: _threshold_measurement(s, _BIG_THRESHOLD).map(d_in)[0] <= epsilon,
                             bounds=(1e-6, 1e9))
    threshold = dp.binary_search(lambda t: _threshold_measurement(scale, t).map(d_in)[1] <= delta,
                                 bounds=(1, _BIG_THRESHOLD), T=int)
    return scale, threshold


def accuracy(scale: float) -> float:
    """Absolute error not exceeded with 95 % probability for one noisy value."""
    return dp.discrete_laplacian_scale_to_accuracy(scale, 1 - CONFIDENCE)


def _noisy(values: list[int], scale: float) -> list[int]:
    domain = dp.vector_domain(dp.atom_domain(T=int))
    noise = dp.m.make_laplace(domain, dp.l1_distance(T=int), scale=scale)
    return [max(0, v) for v in noise([int(v) for v in values])] if values else []
