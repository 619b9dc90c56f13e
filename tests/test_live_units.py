"""Live-mode building blocks: open-bin locations against a reference, message payloads, suppression, options."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from popflow.columns import BREAKDOWNS
from popflow.disclosure.cell_key import record_key
from popflow.disclosure.k_anonymity import KAnonymity
from popflow.errors import PopflowError
from popflow.live.attributes import Attributes
from popflow.live.options import LiveOptions, SourceAddress
from popflow.live.presence import PresenceState
from popflow.live.publish import Publisher, breakdown_sets
from popflow.live.wire import decode, encode_csv

BIN = 3600
AREAS = ["A", "B", "C", "D"]
# Times on a 10-minute grid, so that ties on both count and latest event are common.
event = st.tuples(st.integers(0, 6), st.integers(0, 17).map(lambda m: m * 600), st.sampled_from(AREAS))


def reference_locations(events: pd.DataFrame) -> pd.DataFrame:
    """Bin location by the SPEC rule: most events; tie → latest event; then smaller area_id."""
    events = events.assign(slot=events.t - events.t % BIN)
    per_area = events.groupby(["person", "slot", "area"]).agg(n=("t", "size"), latest=("t", "max")).reset_index()
    ranked = per_area.sort_values(["person", "slot", "n", "latest", "area"], ascending=[True, True, False, False, True])
    return ranked.groupby(["person", "slot"]).head(1)


def feed(state: PresenceState, events: pd.DataFrame) -> None:
    events = events.assign(slot=events.t - events.t % BIN)
    delta = events.groupby(["slot", "person", "area"]).agg(n=("t", "size"), latest=("t", "max")).reset_index()
    state.add(delta.slot.to_numpy(np.int64), delta.person.to_numpy(np.int64), pa.array(delta.area),
              delta.n.to_numpy(np.int64), delta.latest.to_numpy(np.int64))


@settings(max_examples=150, deadline=None)
@given(st.lists(event, min_size=1, max_size=80), st.lists(st.integers(0, 80), max_size=4))
def test_open_bins_follow_the_batch_location_rule_whatever_the_chunks(rows, cuts):
    events = pd.DataFrame(rows, columns=["person", "t", "area"])
    events["person"] = events.person * 7_919_000_000_007 - 2**62  # pseudonyms span the int64 range
    state = PresenceState(BIN, 10 * BIN, AREAS, Attributes.none(), "salt")
    bounds = [0, *sorted(c for c in cuts if c < len(events)), len(events)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        if end > start:
            feed(state, events.iloc[start:end])
    located = reference_locations(events)
    located = located.assign(key=[record_key("salt", p) for p in located.person])
    expected = located.groupby(["slot", "area"]).agg(people=("key", "size"), record_keys=("key", "sum"))
    actual = state.open_cells().to_pandas().set_index(["time", "area_id"])[["people", "record_keys"]]
    assert actual.sort_index().to_dict() == expected.sort_index().to_dict()
    state.recode(Attributes(np.sort(events.person.unique()), np.ones(events.person.nunique(), np.int32),
                            pa.table({b: ["unknown", "x"] for b in BREAKDOWNS})))
    recoded = state.open_cells().to_pandas().groupby(["time", "area_id"])[["people", "record_keys"]].sum()
    assert recoded.sort_index().to_dict() == expected.sort_index().to_dict()  # the same people, now coded "x"


def test_closing_a_bin_returns_its_final_counts_with_attributes():
    attributes = Attributes(np.array([11, 22], np.int64), np.array([1, 2], np.int32),
                            pa.table({b: ["unknown", "x", "y"] for b in BREAKDOWNS}))
    state = PresenceState(BIN, 0, AREAS, attributes, "salt")
    feed(state, pd.DataFrame({"person": [11, 22, 33], "t": [10, 20, 30], "area": ["A", "A", "B"]}))
    assert state.closable(high_water=BIN - 1) == [] and state.closable(high_water=BIN) == [0]
    final = state.close(0).to_pandas()
    assert final[["area_id", "gender", "people"]].values.tolist() == [["A", "x", 1], ["A", "y", 1],
                                                                       ["B", "unknown", 1]]
    assert state.open == {}


def test_csv_messages_keep_line_numbers_and_never_raw_text():
    payload = (b"subscriber_id,timestamp,cell_id,mcc\n+861,2026-01-20T08:00:00+08:00,a1,460\n"
               b"+862,too,many,fields,here\n+863,1768867200,b1,460\n")
    decoded = decode(payload, "m")
    assert decoded.table["line"].to_pylist() == [2, 4]
    assert decoded.malformed == [3]
    assert decoded.table["event_type"].null_count == 2  # absent optional column
    assert decode(gzip.compress(payload), "m").table.equals(decoded.table)
    assert decode(encode_csv(decoded.table), "m").table.num_rows == 2


def test_json_lines_and_unreadable_messages():
    payload = b'{"subscriber_id": "+861", "timestamp": 1768867200, "cell_id": "a1"}\nnot json\n\n[1]\n'
    decoded = decode(payload, "m")
    assert decoded.table["timestamp"].to_pylist() == ["1768867200"] and decoded.malformed == [2, 4]
    assert decode(b"\xff\xfe\x00", "m").problem == "not UTF-8 text"
    missing = decode(b"subscriber_id,timestamp\n+861,1\n", "m")
    assert (missing.problem, missing.column) == ("required column is missing", "cell_id")
    assert decode(b"\x1f\x8b broken", "m").problem == "corrupt gzip payload"
    assert decode(b"", "m").table.num_rows == 0


def test_published_cells_never_count_fewer_than_k(tmp_path):
    import duckdb

    rows = [{"area_id": a, "name": a, "parent_id": "X" if a != "X" else None, "level": "city" if a == "X" else
             "district", "geometry": None} for a in ("A", "B", "X")]
    rng = np.random.default_rng(0)
    counts = pa.table({"time": np.zeros(40, np.int64), "area_id": rng.choice(["A", "B"], 40),
                       "gender": rng.choice(["F", "M"], 40), "age_band": rng.choice(["20-24", "25-29"], 40),
                       "origin_region": rng.choice(["1", "2", "3"], 40), "people": rng.integers(1, 12, 40)})
    published, suppressed = Publisher(duckdb.connect(), rows, KAnonymity(k=10, dominance=0.5)).publish(counts)
    table = published.to_pandas()
    assert (table.people >= 10).all() and suppressed > 0
    assert set(table.breakdowns) <= {",".join(s) for s in breakdown_sets()}
    totals = table[(table.breakdowns == "") & (table.level == "")].set_index("area_id").people
    assert totals.to_dict() == counts.to_pandas().groupby("area_id").people.sum().to_dict()


def test_source_addresses_and_options():
    assert SourceAddress.parse("nats://127.0.0.1:4333/a.b").port == 4333
    assert SourceAddress.parse("nats://nats.example/events").port == 4222
    assert SourceAddress.parse("dir:/tmp/x").path.name == "x"
    for bad in ("kafka://x/y", "dir:", "nats://host/"):
        with pytest.raises(PopflowError):
            SourceAddress.parse(bad)
    assert LiveOptions.from_text(bin="15min", lateness="2h").lateness == 7200
    with pytest.raises(PopflowError):
        LiveOptions.from_text(refresh="5s")
    with pytest.raises(PopflowError):
        LiveOptions.from_text(bin="7min")
