"""Public key domains: the cells a release could have, known without looking at anyone's data.

A table whose every key column has a public domain (time bins of the window,
areas of the level, fixed categories such as gender and age band, or the
categories a contribution declares) is released in DP mode for *all* its
cells, zero counts included, without a threshold. A table with a
data-dependent key (such as ``origin_region``) goes through a thresholded
mechanism instead.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pyarrow as pa

from popflow.columns import AGE_BAND, GENDER, UNKNOWN
from popflow.indicators.blocks import DAY
from popflow.ingest.subscribers import AGE_BANDS as SUBSCRIBER_AGE_BANDS
from popflow.ingest.subscribers import GENDERS

AGE_BANDS = (*SUBSCRIBER_AGE_BANDS, UNKNOWN)
# Keys over areas whose every combination is a meaningful cell. Origin–destination
# style pairs (origin/destination, from_area/to_area) are treated as data-dependent.
AREA_KEYS = ("area_id", "work_area_id", "home_area_id", "to_area")
TIME_KEYS = ("time", "date", "period", "period_to")
DEFAULT_CONTRIB_CAP = 24
MAX_PUBLIC_CELLS = 5_000_000


@dataclass
class Domains:
    """Public values of each key column for one release window."""

    values: dict[str, list] = field(default_factory=dict)

    @classmethod
    def for_window(cls, calendar: pa.Table, area_map: pa.Table, bin_seconds: int | None) -> Domains:
        days = calendar.column("day").to_pylist()
        areas = sorted(set(area_map.column("target_id").to_pylist()))
        values = {
            "date": calendar.column("date").to_pylist(),
            "period": sorted(set(calendar.column("period").to_pylist())),
            "period_to": sorted(set(calendar.column("period").to_pylist())),
            GENDER: sorted(set(GENDERS.values())),
            AGE_BAND: list(AGE_BANDS),
            **{key: areas for key in AREA_KEYS},
        }
        if bin_seconds:
            values["time"] = [d * DAY + s for d in days for s in range(0, DAY, bin_seconds)]
        return cls(values)

    def declared_by(self, contribution) -> Domains:
        """These domains with the contribution's declared categories (``Contribution.categories``)."""
        return Domains({**self.values, **{key: list(values) for key, values in contribution.categories}})

    def contribution_bound(self, keys: tuple[str, ...]) -> int:
        """Default cells per person: one per time slot of the window, at most DEFAULT_CONTRIB_CAP.

        A person is in one area per bin, has one home per month, one move per
        pair of months, so the number of slots bounds their cells; capping it
        trades some dropped cells for less noise. Use --max-contrib to choose.
        """
        slots = next((len(self.values[k]) for k in TIME_KEYS if k in keys and k in self.values), 1)
        if "period_to" in keys:
            slots = max(1, slots - 1)
        return max(1, min(slots, DEFAULT_CONTRIB_CAP))

    def public(self, keys: tuple[str, ...]) -> bool:
        """Whether every key has a public domain small enough to enumerate."""
        if not all(k in self.values for k in keys):
            return False
        size = 1
        for k in keys:
            size *= len(self.values[k])
        return size <= MAX_PUBLIC_CELLS

    def cells(self, keys: tuple[str, ...], types: list[pa.DataType]) -> pa.Table:
        """Every combination of the keys' public values."""
        rows = list(itertools.product(*(self.values[k] for k in keys)))
        columns = zip(keys, types, strict=True)
        return pa.table({k: pa.array([r[i] for r in rows], t) for i, (k, t) in enumerate(columns)})
