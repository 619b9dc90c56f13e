"""Live mode against a real nats-server (JetStream): kills, redeliveries, duplicates, malformed messages."""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import threading
import time

import duckdb
import pytest

from popflow import audit
from popflow.live import LiveOptions, replay, run_stream
from popflow.live.nats_source import connect, ensure_stream
from popflow.live.options import SourceAddress
from popflow.workspace import AUDIT_FILE

from test_live_support import (
    assert_live_matches_batch,
    finish,
    kill,
    lake_events,
    multiset,
    nats_server,
    source_events,
    stream_process,
    synthetic_inputs,
    workspace_with_dimensions,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return synthetic_inputs(tmp_path_factory.mktemp("synth"))


def test_killed_consumer_loses_nothing_and_counts_nothing_twice(tmp_path, inputs):
    ws = workspace_with_dimensions(tmp_path / "ws", inputs)
    with nats_server(tmp_path) as url:
        target = f"{url}/popflow.events"
        producer = threading.Thread(target=replay, args=(inputs, target, 86_400 / 20),
                                    kwargs={"events_per_message": 200})
        producer.start()  # a synthetic day in about twenty seconds
        rng = random.Random(11)
        for _ in range(6):  # SIGKILL at random moments: starting (≈2 s), fetching, counting, committing
            proc = stream_process(ws, target, "--checkpoint-every", "1s", "--fetch", "8")
            time.sleep(rng.uniform(2.0, 4.5))
            kill(proc)
        producer.join()
        finish(stream_process(ws, target, "--checkpoint-every", "1s", "--idle-exit", "3"))
        assert asyncio.run(_messages_left(target)) == 0  # the work queue dropped raw events once committed
    assert len(ws.lake.batches("events")) > 3  # the killed runs committed micro-batches and resumed from them
    assert multiset(lake_events(ws)).equals(multiset(source_events(inputs, ws)))  # each event exactly once
    assert assert_live_matches_batch(ws) > 100
    assert_live_matches_batch(ws, by=("gender",))
    assert_live_matches_batch(ws, by=("age_band",), level="city")
    status = json.loads((ws.path / "live" / "status.json").read_text())
    assert status["events"] == {"accepted": len(lake_events(ws)), "quarantined": 0, "late": 0}
    assert audit.verify(ws.path / AUDIT_FILE)[1] is None


def test_redeliveries_and_publisher_duplicates_count_once(tmp_path, inputs):
    ws = workspace_with_dimensions(tmp_path / "ws", inputs)
    with nats_server(tmp_path) as url:
        target = f"{url}/popflow.events"
        asyncio.run(_limits_stream(target))  # a stream that keeps acknowledged messages: start by sequence
        first = replay(inputs, target, 0, events_per_message=100)
        replay(inputs, target, 0, events_per_message=100)  # same message ids: JetStream drops them
        # Acks wait for a commit every 3 s while the server redelivers after 1 s: each message arrives twice or more.
        options = LiveOptions(ack_wait=1.0, checkpoint_every=3.0, idle_exit=2.0, retain=3 * 86_400, fetch=32)
        run_stream(ws, target, options)
    status = json.loads((ws.path / "live" / "status.json").read_text())
    assert status["redelivered_messages"] > 0
    assert status["position"]["last_seq"] == first["messages"]
    assert multiset(lake_events(ws)).equals(multiset(source_events(inputs, ws)))
    assert_live_matches_batch(ws)


def test_malformed_messages_are_quarantined_and_the_stream_continues(tmp_path, inputs):
    ws = workspace_with_dimensions(tmp_path / "ws", inputs)
    header = "subscriber_id,timestamp,cell_id,event_type,mcc\n"
    cell = duckdb.connect().sql(f"SELECT cell_id FROM read_csv('{inputs}/cells.csv') LIMIT 1").fetchall()[0][0]
    good = [f"+8613900000{i:03d},2026-01-19T08:{i % 60:02d}:00+08:00,{cell},call,460" for i in range(40)]
    payloads = [
        (header + "\n".join(good[:20])).encode(),
        b"\x00\xff\xfe not text at all",  # unreadable: one malformed_row
        b"subscriber_id,cell_id\n+8613900000999,X\n",  # required column missing: one malformed_row
        (header + "+8613900000998,2026-01-19T08:05:00+08:00\n"  # wrong number of fields (line 2)
         + "+8613900000997,2026-01-19T08:06:00+08:00,NO_SUCH_CELL,call,460\n"  # unknown_cell (line 3)
         + "+8613900000996,yesterday," + cell + ",call,460\n").encode(),  # unparsable_time (line 4)
        gzip.compress((header + "\n".join(good[20:30])).encode()),
        "\n".join(json.dumps(dict(zip(header.strip().split(","), g.split(","), strict=True))) for g in good[30:])
        .encode(),
    ]
    with nats_server(tmp_path) as url:
        target = f"{url}/popflow.events"
        asyncio.run(_publish(target, payloads))
        run_stream(ws, target, LiveOptions(checkpoint_every=1.0, idle_exit=1.5))
    assert len(lake_events(ws)) == 40
    quarantine = duckdb.connect().sql(
        "SELECT file, line, reason FROM read_parquet([" + ", ".join(
            f"'{f}'" for f in ws.lake.quarantine_files("events")) + "]) ORDER BY file, line NULLS FIRST").fetchall()
    assert [(file.rsplit("#", 1)[1], line, reason) for file, line, reason in quarantine] == [
        ("2", None, "malformed_row"), ("3", None, "malformed_row"),
        ("4", 2, "malformed_row"), ("4", 3, "unknown_cell"), ("4", 4, "unparsable_time")]
    text = b"".join(p.read_bytes() for p in (ws.path / "lake").rglob("*.parquet"))
    assert b"+86139000009" not in text  # quarantined identifiers are pseudonymised too


async def _messages_left(target: str) -> int:
    address = SourceAddress.parse(target)
    nc, js = await connect(address)
    try:
        return (await js.stream_info(await ensure_stream(js, address.subject))).state.messages
    finally:
        await nc.close()


async def _limits_stream(target: str) -> None:
    address = SourceAddress.parse(target)
    nc, js = await connect(address)
    await js.add_stream(name="EVENTS_KEPT", subjects=[address.subject])
    await nc.close()


async def _publish(target: str, payloads: list[bytes]) -> None:
    address = SourceAddress.parse(target)
    nc, js = await connect(address)
    try:
        await ensure_stream(js, address.subject)
        for payload in payloads:
            await js.publish(address.subject, payload)
    finally:
        await nc.close()
