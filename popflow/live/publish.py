"""Published live cells: counts rolled up to every area level and breakdown set, under the workspace's default mode.

The live view is a release like any other: cells are people per bin × area
(× breakdowns), and the mechanism of the workspace's ``default_privacy``
decides what is published, through its own ``publish`` step:

- ``k``: a cell of fewer than ``k`` people is left out and counted as suppressed;
- ``ckm``: the same suppression, then each count is perturbed by its cell key
  exactly as a batch release of the same cell would be: the cell key is the
  sum of the record keys of its people (kept per finest cell by
  ``popflow.live.presence`` and summed like the counts) plus the offset of
  its breakdown set, so the live view equals ``present-population --method
  observed --privacy ckm``;
- ``dp``: refused. Each snapshot would be a new noisy release of the same
  people, so the privacy loss of a running stream has no bound.

One published table holds every area level and every set of breakdowns
(``breakdowns`` names them, comma-separated, in the order of
``popflow.columns.BREAKDOWNS``; the breakdowns not named there are null), so a
reader can pick any of them without seeing anything unpublished.
"""

from __future__ import annotations

from itertools import combinations

import pyarrow as pa

from popflow.columns import BREAKDOWNS
from popflow.disclosure.cell_key import CELL_KEY, CellKeyMethod
from popflow.disclosure.cell_key import KEYS as CELL_KEYS
from popflow.disclosure.k_anonymity import KAnonymity
from popflow.disclosure.request import PrivacyRequest
from popflow.errors import PopflowError
from popflow.geography import finest_areas, level_map
from popflow.indicators.base import Contribution
from popflow.live.presence import RECORD_KEYS, with_record_keys

INDICATOR = "present-population"
FINEST = ""  # the level key of the finest areas
KEYS = ("time", "level", "breakdowns", "area_id", *BREAKDOWNS)
CONTRIBUTION = Contribution(INDICATOR, "", KEYS)


def live_mechanism(ws) -> KAnonymity:
    """The mechanism of the workspace's ``default_privacy`` for the live view (k or ckm; dp is refused)."""
    mode = ws.settings.default_privacy
    if mode == "dp":
        raise PopflowError("the live stream cannot publish in dp mode (default_privacy = dp): every snapshot "
                           "would spend privacy budget without bound; set default_privacy to k or ckm to stream")
    return PrivacyRequest(mode=mode).mechanism(ws, INDICATOR, tables=1)


def breakdown_sets() -> list[tuple[str, ...]]:
    """Every subset of the breakdowns, in BREAKDOWNS order."""
    return [combo for size in range(len(BREAKDOWNS) + 1) for combo in combinations(BREAKDOWNS, size)]


class Publisher:
    """Rolls up count tables on a DuckDB connection and publishes them through the mechanism."""

    def __init__(self, con, area_rows: list[dict], mechanism: KAnonymity):
        self.con, self.mechanism = con, mechanism
        self.levels = area_levels(area_rows)
        maps = [_labelled(level_map(area_rows, None), FINEST)]
        maps += [_labelled(level_map(area_rows, name), name) for name in self.levels["names"]
                 if name != self.levels["finest"]]
        con.register("live_levels", pa.concat_tables(maps))

    def publish(self, cells: pa.Table) -> tuple[pa.Table, int]:
        """Published cells of a count table, and the number of cells suppressed."""
        self.con.register("live_cells", with_record_keys(cells))
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE live_grouped AS {self._grouped_sql()}")
        self.con.unregister("live_cells")
        return self.disclose(CONTRIBUTION, "live_grouped")

    def disclose(self, contribution: Contribution, cells: str) -> tuple[pa.Table, int]:
        """A table of cells (``people``, ``record_keys`` and, with breakdowns, ``breakdowns``) through the
        mechanism's publish step: the published cells and the number of cells left out.

        In ckm, a cell whose record keys are unknown (counted before the stream
        kept them) cannot be perturbed, so it is left out and counted too.
        """
        with_keys = f"(SELECT *, {self._cell_key_sql(contribution)} AS {CELL_KEY} FROM {cells})"
        published, suppressed = self.mechanism.publish(_Connection(self.con), contribution, with_keys)
        left_out = suppressed["cells_below_k"]
        if isinstance(self.mechanism, CellKeyMethod):
            left_out += self.con.sql(f"SELECT count(*) FROM {cells} WHERE {RECORD_KEYS} IS NULL "
                                     f"AND people >= {self.mechanism.k}").fetchall()[0][0]
        return published, int(left_out)

    def _cell_key_sql(self, contribution: Contribution) -> str:
        """SQL of the cell key (ckm; null otherwise): the record keys' sum plus the breakdown set's offset."""
        if not isinstance(self.mechanism, CellKeyMethod):
            return "NULL::BIGINT"
        offset = "0"
        if "breakdowns" in contribution.keys:
            offsets = " ".join(f"WHEN '{','.join(combo)}' THEN {self.mechanism.breakdown_offset(combo)}"
                               for combo in breakdown_sets())
            offset = f"CASE breakdowns {offsets} END"
        return f"({RECORD_KEYS} + {offset}) % {CELL_KEYS}"

    def _grouped_sql(self) -> str:
        sets = ", ".join("(" + ", ".join(("time", "level", "target_id", *combo)) + ")" for combo in breakdown_sets())
        names = ", ".join(BREAKDOWNS)
        labels = " ".join(f"WHEN {_absent_mask(combo)} THEN '{','.join(combo)}'" for combo in breakdown_sets())
        return (f"SELECT time, level, CASE grouping({names}) {labels} END AS breakdowns, target_id AS area_id, "
                f"{names}, sum(people)::BIGINT AS people, {key_sum_sql()} AS {RECORD_KEYS} "
                f"FROM live_cells JOIN live_levels USING (area_id) GROUP BY GROUPING SETS ({sets})")


class _Connection:
    """A DuckDB connection as the engine a mechanism's ``publish`` step expects (``register``, ``table``)."""

    def __init__(self, con):
        self.con = con

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def table(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()


def key_sum_sql() -> str:
    """SQL: the sum of the record keys of the cells summed, null when any of them has none."""
    return f"CASE WHEN count({RECORD_KEYS}) = count(*) THEN sum({RECORD_KEYS})::BIGINT END"


def _absent_mask(combo: tuple[str, ...]) -> int:
    """DuckDB's grouping() bit mask: a bit is set for each breakdown left out of the set."""
    return sum(1 << (len(BREAKDOWNS) - 1 - i) for i, name in enumerate(BREAKDOWNS) if name not in combo)


def _labelled(mapping: pa.Table, level: str) -> pa.Table:
    return mapping.append_column("level", pa.array([level] * mapping.num_rows, pa.string()))


def area_levels(area_rows: list[dict]) -> dict:
    """Level names (coarsest first where parents say so) and the finest areas' level, if they share one."""
    finest = {a["level"] for a in finest_areas(area_rows)}
    names = sorted({str(a["level"]) for a in area_rows if a["level"]}, key=lambda n: _depth(area_rows, n))
    return {"names": names, "finest": next(iter(finest)) if len(finest) == 1 else None}


def _depth(area_rows: list[dict], level: str) -> int:
    by_id = {a["area_id"]: a for a in area_rows}
    area = next(a for a in area_rows if a["level"] == level)
    depth = 0
    while area.get("parent_id") and area["parent_id"] in by_id and depth < len(area_rows):
        area, depth = by_id[area["parent_id"]], depth + 1
    return depth
