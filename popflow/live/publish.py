"""Published live cells: counts rolled up to every area level and breakdown set, k-suppressed.

The live view is a release like any other: cells are people per bin × area
(× breakdowns), and the workspace's k-anonymity mechanism decides what is
published — a cell of fewer than ``k`` people is left out and counted as
suppressed. One published table holds every area level and every set of
breakdowns (``breakdowns`` names them, comma-separated, in the order of
``popflow.columns.BREAKDOWNS``; the breakdowns not named there are null), so a
reader can pick any of them without seeing anything unpublished.
"""

from __future__ import annotations

from itertools import combinations

import pyarrow as pa

from popflow.columns import BREAKDOWNS
from popflow.disclosure.k_anonymity import KAnonymity
from popflow.geography import finest_areas, level_map
from popflow.indicators.base import Contribution

FINEST = ""  # the level key of the finest areas
KEYS = ("time", "level", "breakdowns", "area_id", *BREAKDOWNS)
CONTRIBUTION = Contribution("present-population", "", KEYS)


def breakdown_sets() -> list[tuple[str, ...]]:
    """Every subset of the breakdowns, in BREAKDOWNS order."""
    return [combo for size in range(len(BREAKDOWNS) + 1) for combo in combinations(BREAKDOWNS, size)]


class Publisher:
    """Rolls up and suppresses count tables on a DuckDB connection."""

    def __init__(self, con, area_rows: list[dict], mechanism: KAnonymity):
        self.con, self.mechanism = con, mechanism
        self.levels = area_levels(area_rows)
        maps = [_labelled(level_map(area_rows, None), FINEST)]
        maps += [_labelled(level_map(area_rows, name), name) for name in self.levels["names"]
                 if name != self.levels["finest"]]
        con.register("live_levels", pa.concat_tables(maps))

    def publish(self, cells: pa.Table) -> tuple[pa.Table, int]:
        """Published cells of a count table, and the number of cells suppressed."""
        self.con.register("live_cells", cells)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE live_grouped AS {self._grouped_sql()}")
        self.con.unregister("live_cells")
        published = self.con.sql(self.mechanism.published_sql(CONTRIBUTION, "live_grouped")).to_arrow_table()
        suppressed = self.con.sql(self.mechanism.suppression_sql(CONTRIBUTION, "live_grouped")).fetchall()[0][0]
        return published, int(suppressed)

    def _grouped_sql(self) -> str:
        sets = ", ".join("(" + ", ".join(("time", "level", "target_id", *combo)) + ")" for combo in breakdown_sets())
        names = ", ".join(BREAKDOWNS)
        labels = " ".join(f"WHEN {_absent_mask(combo)} THEN '{','.join(combo)}'" for combo in breakdown_sets())
        return (f"SELECT time, level, CASE grouping({names}) {labels} END AS breakdowns, target_id AS area_id, "
                f"{names}, sum(people)::BIGINT AS people FROM live_cells JOIN live_levels USING (area_id) "
                f"GROUP BY GROUPING SETS ({sets})")


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
