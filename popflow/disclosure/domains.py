"""Public key domains: the cells a release could have, known without looking at anyone's data.

Each contribution declares which of its keys have a public domain and which
(``Contribution.public``: time bins, dates or months of the window, areas of
the level); breakdowns (gender, age band) and declared categories have theirs
too. A table whose every key column has a public domain is released in DP mode
for *all* its cells, zero counts included, without a threshold. A table with a
data-dependent key (such as ``origin_region``, or an origin–destination pair an
indicator leaves undeclared) goes through a thresholded mechanism instead.
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
DEFAULT_CONTRIB_CAP = 24
MAX_PUBLIC_CELLS = 5_000_000
# The domains a contribution may declare for its time key (``Contribution.public``).
TIME_DOMAINS = ("bins", "dates", "months")


@dataclass
class Domains:
    """Public values of each named domain for one release window (``bins``, ``dates``, ``months``, ``areas``),
    and, once ``declared_by`` a contribution, of each of its key columns."""

    values: dict[str, list] = field(default_factory=dict)

    @classmethod
    def for_window(cls, calendar: pa.Table, area_map: pa.Table, bin_seconds: int | None) -> Domains:
        days = calendar.column("day").to_pylist()
        values = {
            "dates": calendar.column("date").to_pylist(),
            "months": sorted(set(calendar.column("period").to_pylist())),
            "areas": sorted(set(area_map.column("target_id").to_pylist())),
        }
        if bin_seconds:
            values["bins"] = [d * DAY + s for d in days for s in range(0, DAY, bin_seconds)]
        return cls(values)

    def declared_by(self, contribution) -> Domains:
        """The public values of the contribution's key columns: each key it declares public
        (``Contribution.public``) takes its domain's values, the breakdowns gender and age band their
        vocabularies, declared categories (``Contribution.categories``) their values. Other keys have none."""
        keys = {key: self.values[domain] for key, domain in contribution.public if domain in self.values}
        keys |= {GENDER: sorted(set(GENDERS.values())), AGE_BAND: list(AGE_BANDS)}
        return Domains(keys | {key: list(values) for key, values in contribution.categories})

    def contribution_bound(self, contribution) -> int:
        """Default cells per person: one per time slot of the window, at most DEFAULT_CONTRIB_CAP.

        A person is in one area per bin, has one home per month, one move per
        pair of consecutive months (a table whose first key is the earlier
        period, a label, has one slot fewer), so the number of slots bounds their
        cells; capping it trades some dropped cells for less noise. Use
        --max-contrib to choose.
        """
        time = next((domain for _, domain in contribution.public if domain in TIME_DOMAINS), None)
        slots = len(self.values.get(time, [])) or 1
        if contribution.keys[0] in contribution.labels:
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
