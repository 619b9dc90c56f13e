"""Breakdown attributes of subscribers as small integer codes, looked up by pseudonym.

Each distinct (gender, age_band, origin_region) of the subscriber register
gets a code; code 0 is all-``unknown``, which is also what a person missing
from the register gets (as in the batch indicators). Lookups are vectorised
over a sorted copy of the pseudonyms, so a million subscribers cost a few
megabytes and no per-person Python objects.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from popflow.columns import BREAKDOWNS, UNKNOWN


class Attributes:
    """Pseudonym → attribute code, and code → (gender, age_band, origin_region)."""

    def __init__(self, persons: np.ndarray, codes: np.ndarray, decode: pa.Table):
        order = np.argsort(persons, kind="stable")
        self.persons, self.codes, self.decode = persons[order], codes[order], decode

    @classmethod
    def load(cls, con) -> Attributes:
        """From the ``subscribers`` table of a DuckDB connection (lake columns)."""
        values = ", ".join(f"coalesce({b}, '{UNKNOWN}') AS {b}" for b in BREAKDOWNS)
        names = ", ".join(BREAKDOWNS)
        combos = con.sql(f"SELECT DISTINCT {values} FROM subscribers ORDER BY ALL").to_arrow_table()
        unknown = pa.table({b: [UNKNOWN] for b in BREAKDOWNS})
        decode = pa.concat_tables([unknown, combos.select(list(BREAKDOWNS))])
        con.register("attribute_codes", decode.append_column("code", pa.array(range(decode.num_rows), pa.int32())))
        rows = con.sql(f"SELECT s.person, c.code FROM (SELECT person, {values} FROM subscribers) s "
                      f"JOIN attribute_codes c USING ({names}) WHERE c.code > 0").to_arrow_table()
        con.unregister("attribute_codes")
        return cls(rows["person"].to_numpy().astype(np.int64), rows["code"].to_numpy().astype(np.int32), decode)

    @classmethod
    def none(cls) -> Attributes:
        """No register: everybody is unknown."""
        return cls(np.empty(0, np.int64), np.empty(0, np.int32), pa.table({b: [UNKNOWN] for b in BREAKDOWNS}))

    @property
    def size(self) -> int:
        return self.decode.num_rows

    def lookup(self, persons: np.ndarray) -> np.ndarray:
        """The code of each pseudonym (0 when not in the register)."""
        if not len(self.persons):
            return np.zeros(len(persons), np.int32)
        at = np.minimum(np.searchsorted(self.persons, persons), len(self.persons) - 1)
        return np.where(self.persons[at] == persons, self.codes[at], 0).astype(np.int32)
