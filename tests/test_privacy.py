"""No raw identifier or key material anywhere in a workspace after ingest and every indicator."""

from __future__ import annotations

import stat

import pyarrow as pa
import pyarrow.parquet as pq

import popflow
from popflow import indicators

import scenario


def texts_in(path) -> list[str]:
    """A file's bytes as text, plus every decoded value of a Parquet file (pages may be compressed)."""
    raw = path.read_bytes()
    texts = [raw.decode("latin-1")]
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        texts.extend(str(v) for column in table.columns for v in column.to_pylist())
    return texts


def test_workspace_holds_no_raw_identifier_or_key(tmp_path):
    events = scenario.random_events(n_people=30, days=3, per_day=6)
    subs = scenario.subscribers(30)
    ws = scenario.workspace(tmp_path, events, subs, k=2)
    tickets = scenario.random_tickets(40, weeks=70, per_week=12, start="2025-01-06")
    sales = scenario.random_sales(40, days=3, per_day=30)
    scenario.ingest_frames(ws, tmp_path / "more", tickets=tickets, sales=sales)
    bad = tmp_path / "bad.csv"
    bad.write_text("subscriber_id,timestamp,cell_id\n+8613900000001,not-a-time,a1\n+8613900000002,2026-01-20\n")
    ws.ingest("events", [bad])  # quarantined rows must be pseudonymised too
    for indicator in indicators.all_indicators():
        for suffix in (".csv", ".geojson", ".parquet"):
            params = {"min_nights": 1, "min_days": 1} if indicator.params.__name__ == "Homes" else {}
            ws.run(indicator.name, out=ws.path / "releases" / f"{indicator.name}{suffix}", **params)
    key = (ws.path / "secret.key").read_bytes()
    assert stat.S_IMODE((ws.path / "secret.key").stat().st_mode) == 0o600
    raw_ids = set(subs["subscriber_id"]) | set(tickets["traveller_id"]) | set(sales["customer_id"])
    scanned = 0
    for path in ws.path.rglob("*"):
        if not path.is_file() or path.name == "secret.key":
            continue
        scanned += 1
        for text in texts_in(path):
            assert not any(r in text or r.lstrip("+") in text for r in raw_ids), path
            assert key.hex() not in text and key.decode("latin-1") not in text, path
    assert scanned > 20


def test_pseudonyms_depend_on_the_key(tmp_path):
    events = scenario.random_events(n_people=3, days=1, per_day=2)
    a = scenario.workspace(tmp_path / "a", events)
    b = scenario.workspace(tmp_path / "b", events)
    query = "SELECT DISTINCT person FROM events ORDER BY person"
    assert a.connect().sql(query).fetchall() != b.connect().sql(query).fetchall()
    assert len(popflow.Workspace(a.path).connect().sql(query).fetchall()) == 3


def test_pseudonym_is_keyed_hmac_sha256():
    import hashlib
    import hmac

    from popflow.pseudonymise import Pseudonymiser

    key = bytes(range(32))
    expected = int.from_bytes(hmac.new(key, b"+8613900000001", hashlib.sha256).digest()[:8], "big", signed=True)
    p = Pseudonymiser(key)
    assert p.one("+8613900000001") == expected
    assert p.column(pa.array(["+8613900000001"] * 2)).to_pylist() == [expected] * 2  # hashed, then looked up


def test_pseudonyms_of_a_column_match_one_by_one_across_batches_and_cache_resets(monkeypatch):
    """Batches sharing identifiers, with nulls and dictionary encoding (one dictionary per chunk, as Parquet row
    groups give them, sharing values), get each identifier's own pseudonym, whether it was hashed in this
    batch, an earlier one, or before the cache was emptied."""
    from popflow import pseudonymise

    monkeypatch.setattr(pseudonymise, "CACHE_LIMIT", 5)
    p = pseudonymise.Pseudonymiser(b"k" * 32)
    batches = [["a", "b", None, "a"], ["b", "c", "d"], ["e", "f", "g", "a"], ["a", None], ["h", "i", "i", "h"]]
    for batch in batches:
        half = len(batch) // 2
        for values in ([pa.array(batch, pa.string())], [pa.array(batch, pa.string()).dictionary_encode()],
                       [pa.array(batch[:half], pa.string()).dictionary_encode(),
                        pa.array(batch[half:], pa.string()).dictionary_encode()]):
            expected = [None if v is None else p.one(v) for v in batch]
            assert p.column(pa.chunked_array(values)).to_pylist() == expected
