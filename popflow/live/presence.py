"""Bin locations of the open bins, kept in memory, and the present population they give.

A bin [s, s + bin) stays *open* while late events may still change it: until
the newest committed event time (the high-water mark) reaches
s + bin + lateness. For each open bin this module keeps, by pseudonym and in
memory only, each person's number of events per area and the time of the
latest one, and the person's bin location under the batch rule (most events;
a tie goes to the area of the latest event, then to the smaller area_id).
A count per area × attribute code follows every change of location, so
publishing never walks over people; beside it, the sum of those people's
record keys (``popflow.disclosure.cell_key``: one byte of md5(salt | pseudonym),
computed once per person), from which the cell key method derives the cell
key of any roll-up of the cells.

The rule is one integer per (person, area), compared with ``>``: the events
(high bits), then the latest event's offset in the bin, then the reversed rank
of the area_id (areas are ranked in sorted order, so the smaller id wins).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from popflow.columns import BREAKDOWNS
from popflow.disclosure.cell_key import record_key
from popflow.live.attributes import Attributes

AREA_BITS = 19  # up to 524 288 finest areas
OFFSET_BITS = 17  # a bin is at most a day: offsets < 2^17 seconds
MAX_AREA = (1 << AREA_BITS) - 1
EVENTS_SHIFT = AREA_BITS + OFFSET_BITS
RECORD_KEYS = "record_keys"  # per cell: the sum of its people's record keys


class Growable:
    """A numpy array that grows by doubling; ``data[:size]`` is in use."""

    def __init__(self, dtype, fill=0):
        self.data, self.size, self.fill = np.full(1024, fill, dtype), 0, fill

    def extend_to(self, size: int) -> None:
        if size > len(self.data):
            grown = np.full(max(size, 2 * len(self.data)), self.fill, self.data.dtype)
            grown[:len(self.data)] = self.data
            self.data = grown
        self.size = max(self.size, size)


class KeyIndex:
    """int64 keys → consecutive ids (0, 1, 2, … in order of arrival), looked up vectorised.

    Keys live in a large sorted array plus a small sorted one for recent
    arrivals, merged into the large one when it passes an eighth of its size:
    new keys mostly move the small array only, and lookups are binary searches
    (of sorted queries, which keeps them cache-friendly).
    """

    def __init__(self):
        empty = np.empty(0, np.int64)
        self.parts = [[empty, empty], [empty, empty]]  # [keys, ids] of the large and the recent array
        self.size = 0

    def ids(self, keys: np.ndarray) -> np.ndarray:
        """The id of each key, giving new keys the next ids."""
        found = np.full(len(keys), -1, np.int64)
        order = np.argsort(keys)
        ordered = keys[order]  # sorted queries walk the index in order: far fewer cache misses
        for sorted_keys, ids in self.parts:
            if len(sorted_keys):
                at = np.minimum(np.searchsorted(sorted_keys, ordered), len(sorted_keys) - 1)
                hit = sorted_keys[at] == ordered
                found[order[hit]] = ids[at[hit]]
        new = found < 0
        if new.any():
            fresh = np.unique(keys[new])
            self._add(fresh, np.arange(self.size, self.size + len(fresh), dtype=np.int64))
            found[new] = self.size + np.searchsorted(fresh, keys[new])
            self.size += len(fresh)
        return found

    def _add(self, keys: np.ndarray, ids: np.ndarray) -> None:
        """Insert new keys (sorted, unique) into the recent array; fold it into the large one when due."""
        self.parts[1] = _merged(self.parts[1], keys, ids)
        if len(self.parts[1][0]) * 8 > len(self.parts[0][0]):
            empty = np.empty(0, np.int64)
            self.parts = [_merged(self.parts[0], *self.parts[1]), [empty, empty]]


def _merged(part: list[np.ndarray], keys: np.ndarray, ids: np.ndarray) -> list[np.ndarray]:
    """Two sorted key arrays (with their ids) merged in linear time."""
    at = np.searchsorted(part[0], keys)
    return [np.insert(part[0], at, keys), np.insert(part[1], at, ids)]


class People:
    """Dense ids of the pseudonyms seen by the stream, with their attribute codes and record keys."""

    def __init__(self, attributes: Attributes, salt: str):
        self.index = KeyIndex()
        self.persons, self.codes, self.keys = Growable(np.int64), Growable(np.int32), Growable(np.int64)
        self.attributes, self.salt = attributes, salt

    def ids(self, persons: np.ndarray) -> np.ndarray:
        """Dense id of each pseudonym, adding new ones."""
        first = self.index.size
        found = self.index.ids(persons)
        if self.index.size > first:
            fresh = np.flatnonzero(found >= first)
            for column in (self.persons, self.codes, self.keys):
                column.extend_to(self.index.size)
            self.persons.data[found[fresh]] = persons[fresh]
            self.codes.data[found[fresh]] = self.attributes.lookup(persons[fresh])
            self.keys.data[found[fresh]] = [record_key(self.salt, p) for p in persons[fresh].tolist()]
        return found

    def recode(self, attributes: Attributes) -> None:
        """Take attribute codes from a reloaded subscriber register."""
        self.attributes = attributes
        self.codes.data[:self.persons.size] = attributes.lookup(self.persons.data[:self.persons.size])


class OpenBin:
    """One open bin: events per (person, area), each person's best score, people (and the sum of their record
    keys) per area × code."""

    def __init__(self, slot: int, areas: int, codes: int):
        self.slot, self.areas, self.codes_count = slot, areas, codes
        self.rows = KeyIndex()  # person id × areas + area → row
        self.events, self.latest = Growable(np.int64), Growable(np.int64)
        self.best = Growable(np.int64)  # per person id: the score of their bin location (0: not seen)
        self.counts = np.zeros(areas * codes, np.int64)
        self.key_sums = np.zeros(areas * codes, np.int64)

    def add(self, pids: np.ndarray, areas: np.ndarray, events: np.ndarray, offsets: np.ndarray,
            codes: np.ndarray, keys: np.ndarray) -> None:
        """Add aggregated events (one row per person and area) and move people whose location changed."""
        rows = self._rows(pids * self.areas + areas)
        self.events.data[rows] += events
        self.latest.data[rows] = np.maximum(self.latest.data[rows], offsets)
        score = (self.events.data[rows] << EVENTS_SHIFT) | (self.latest.data[rows] << AREA_BITS) | (MAX_AREA - areas)
        people, inverse = np.unique(pids, return_inverse=True)
        candidate = np.zeros(len(people), np.int64)
        np.maximum.at(candidate, inverse, score)
        self.best.extend_to(int(people[-1]) + 1)
        previous = self.best.data[people]
        better = candidate > previous
        self._move(people[better], previous[better], candidate[better], codes, keys)

    def _rows(self, keys: np.ndarray) -> np.ndarray:
        rows = self.rows.ids(keys)
        self.events.extend_to(self.rows.size)
        self.latest.extend_to(self.rows.size)
        return rows

    def _move(self, people: np.ndarray, old: np.ndarray, new: np.ndarray, codes: np.ndarray,
              keys: np.ndarray) -> None:
        self.best.data[people] = new
        old_area, new_area = MAX_AREA - (old & MAX_AREA), MAX_AREA - (new & MAX_AREA)
        moved = (old == 0) | (old_area != new_area)
        code, key = codes[people], keys[people]
        arrived = (new_area * self.codes_count + code)[moved]
        np.add.at(self.counts, arrived, 1)
        np.add.at(self.key_sums, arrived, key[moved])
        left = moved & (old > 0)
        departed = (old_area * self.codes_count + code)[left]
        np.subtract.at(self.counts, departed, 1)
        np.subtract.at(self.key_sums, departed, key[left])

    def recount(self, codes: np.ndarray, keys: np.ndarray, codes_count: int) -> None:
        """Rebuild the counts after attribute codes changed."""
        self.codes_count = codes_count
        best = self.best.data[:self.best.size]
        people = np.flatnonzero(best)
        cells = (MAX_AREA - (best[people] & MAX_AREA)) * codes_count + codes[people]
        self.counts = np.bincount(cells, minlength=self.areas * codes_count)
        self.key_sums = np.bincount(cells, keys[people], self.areas * codes_count).astype(np.int64)


class PresenceState:
    """The open bins of a stream and the published-to-be counts of each."""

    def __init__(self, bin_seconds: int, lateness: int, area_ids: list[str], attributes: Attributes,
                 salt: str):
        if len(area_ids) > MAX_AREA:
            raise ValueError(f"live mode supports at most {MAX_AREA} finest areas")
        self.bin, self.lateness = bin_seconds, lateness
        self.area_ids = pa.array(sorted(area_ids), pa.string())
        self.people = People(attributes, salt)
        self.open: dict[int, OpenBin] = {}

    def add(self, slots: np.ndarray, persons: np.ndarray, area_ids: pa.Array, events: np.ndarray,
            latest: np.ndarray) -> int:
        """Add events aggregated per (slot, person, area_id); returns rows whose area is unknown here."""
        ranks = pc.index_in(area_ids, value_set=self.area_ids)
        known = ranks.is_valid().to_numpy(zero_copy_only=False)
        areas = ranks.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        pids = self.people.ids(persons[known])
        slots, areas, events, latest = slots[known], areas[known], events[known], latest[known]
        codes, keys = self.people.codes.data, self.people.keys.data
        for slot in np.unique(slots).tolist():
            at = slots == slot
            bin_ = self.open.get(slot) or self._open(slot)
            bin_.add(pids[at], areas[at], events[at], latest[at] - slot, codes, keys)
        return int((~known).sum())

    def _open(self, slot: int) -> OpenBin:
        self.open[slot] = OpenBin(slot, len(self.area_ids), self.people.attributes.size)
        return self.open[slot]

    def is_open(self, slot: int, high_water: int | None) -> bool:
        """Whether a bin still takes events under the high-water mark."""
        return high_water is None or slot + self.bin + self.lateness > high_water

    def closable(self, high_water: int | None) -> list[int]:
        return sorted(s for s in self.open if not self.is_open(s, high_water))

    def close(self, slot: int) -> pa.Table:
        """Remove an open bin and return its final counts."""
        return self._cells(self.open.pop(slot))

    def open_cells(self) -> pa.Table:
        """Counts of every open bin: time, area_id, gender, age_band, origin_region, people, record_keys."""
        tables = [self._cells(b) for _, b in sorted(self.open.items())]
        return pa.concat_tables(tables) if tables else cells_schema().empty_table()

    def _cells(self, bin_: OpenBin) -> pa.Table:
        index = np.flatnonzero(bin_.counts)
        areas, codes = index // bin_.codes_count, index % bin_.codes_count
        decode = self.people.attributes.decode.take(pa.array(codes))
        columns = {"time": pa.array(np.full(len(index), bin_.slot, np.int64)),
                   "area_id": self.area_ids.take(pa.array(areas))}
        columns.update({name: decode[name] for name in decode.column_names})
        columns["people"] = pa.array(bin_.counts[index].astype(np.int64))
        columns[RECORD_KEYS] = pa.array(bin_.key_sums[index])
        return pa.table(columns, schema=cells_schema())

    def recode(self, attributes: Attributes) -> None:
        """Use a reloaded subscriber register for every open bin."""
        self.people.recode(attributes)
        for bin_ in self.open.values():
            bin_.recount(self.people.codes.data, self.people.keys.data, attributes.size)


def cells_schema() -> pa.Schema:
    """Counts of present people per bin (local epoch seconds), finest area and breakdown attributes, with the
    sum of their record keys."""
    return pa.schema([("time", pa.int64()), ("area_id", pa.string()), *((b, pa.string()) for b in BREAKDOWNS),
                      ("people", pa.int64()), (RECORD_KEYS, pa.int64())])


def with_record_keys(cells: pa.Table) -> pa.Table:
    """Cells as ``cells_schema``; counts from before record keys were kept get none (null)."""
    if RECORD_KEYS not in cells.column_names:
        cells = cells.append_column(RECORD_KEYS, pa.nulls(cells.num_rows, pa.int64()))
    return cells.select(cells_schema().names).cast(cells_schema())
