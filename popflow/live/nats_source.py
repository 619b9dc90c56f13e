"""NATS JetStream source: a durable pull consumer, batched fetches, acks after the commit.

The position is the last stream sequence committed to the lake (in the batch
record, see ``popflow.live.history``), not the consumer's ack floor: on start
the durable consumer is re-created to deliver from the sequence after it, in
stream order (from the oldest message left, in a work-queue stream).
Messages already processed (a redelivery after ``ack_wait``, a duplicate, a
committed message not yet acknowledged) are recognised by their stream
sequence and only acknowledged. Acks are sent after the commit that holds
the message, so the server's view lags the lake's and never runs ahead of it.

A stream that was deleted and re-created restarts its sequence numbers; its
creation time is part of the source name, so it counts as a new source.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from popflow.errors import PopflowError
from popflow.live.options import LiveOptions, SourceAddress
from popflow.live.wire import decode

FETCH_WAIT = 1.0  # seconds a pull request waits for the first message
LINGER = 0.1  # seconds spent gathering fetched messages into one chunk (larger chunks cost less per event)
CHUNK_BYTES = 32 << 20  # ... unless this much payload is already gathered


def stream_name(subject: str) -> str:
    """The stream popflow creates for a subject when none holds it."""
    return "POPFLOW_" + re.sub(r"[^A-Za-z0-9_-]", "_", subject).upper()


async def connect(address: SourceAddress):
    """A connection and JetStream context (nats-py is the ``live`` extra)."""
    try:
        import nats
    except ImportError as exc:
        raise PopflowError("the NATS source needs nats-py: pip install 'popflow[live]'") from exc
    try:
        nc = await nats.connect(address.server, name="popflow", connect_timeout=5, max_reconnect_attempts=5)
    except Exception as exc:  # nats raises several unrelated types for an unreachable server
        raise PopflowError(f"cannot connect to NATS at {address.server}: {exc}") from exc
    return nc, nc.jetstream()


async def ensure_stream(js, subject: str) -> str:
    """The stream holding ``subject``; when there is none, a work-queue stream (file storage) is created.

    In a work queue a message is deleted once acknowledged, and popflow
    acknowledges only after the lake commit: raw events leave the bus as soon
    as they are safely pseudonymised in the lake, and not before.
    """
    from nats.js import api
    from nats.js.errors import NotFoundError

    try:
        return await js.find_stream_name_by_subject(subject)
    except NotFoundError:
        name = stream_name(subject)
        await js.add_stream(name=name, subjects=[subject], retention=api.RetentionPolicy.WORK_QUEUE)
        return name


def run_nats(make_engine, address: SourceAddress, options: LiveOptions, stop: threading.Event) -> None:
    """Consume until ``stop`` (or ``idle_exit``); ``make_engine(source_name)`` builds the engine."""
    asyncio.run(NatsConsumer(make_engine, address, options, stop).run())


class NatsConsumer:
    """The asyncio side: fetches and acks; the engine runs on one worker thread."""

    def __init__(self, make_engine, address: SourceAddress, options: LiveOptions, stop: threading.Event):
        self.make_engine, self.address, self.options, self.stop = make_engine, address, options, stop
        self.worker = ThreadPoolExecutor(1, thread_name_prefix="popflow-live")
        self.unacked: list = []
        self.processed = 0

    async def call(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.worker, fn, *args)

    async def run(self) -> None:
        nc, js = await connect(self.address)
        try:
            stream = await ensure_stream(js, self.address.subject)
            info = await js.stream_info(stream)
            created = info.created.isoformat() if info.created else "unknown"
            self.position = {"stream": stream, "created": created}
            self.engine = await self.call(self.make_engine, f"nats:{stream}@{created}/{self.address.subject}")
            self.processed = self.engine.position.get("last_seq", 0)
            subscription = await self._subscribe(js, stream, info.config.retention)
            await self._consume(subscription)
        finally:
            await nc.close()
            self.worker.shutdown(wait=True)

    async def _subscribe(self, js, stream: str, retention):
        """Re-create the durable consumer to deliver, in order, what follows the committed position.

        A work queue holds only unacknowledged messages and must deliver all of
        them; those committed but not yet acknowledged are recognised by sequence.
        """
        from nats.js import api
        from nats.js.errors import NotFoundError

        try:
            await js.delete_consumer(stream, self.options.durable)
        except NotFoundError:
            pass
        start = 1 if retention == api.RetentionPolicy.WORK_QUEUE else self.processed + 1
        config = api.ConsumerConfig(
            durable_name=self.options.durable, ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE if start > 1 else api.DeliverPolicy.ALL,
            opt_start_seq=start if start > 1 else None, filter_subject=self.address.subject,
            ack_wait=self.options.ack_wait or max(30.0, 6 * self.options.checkpoint_every),
            max_ack_pending=1_000_000, max_deliver=-1)
        return await js.pull_subscribe(self.address.subject, durable=self.options.durable, stream=stream,
                                       config=config)

    async def _consume(self, subscription) -> None:
        queue: asyncio.Queue = asyncio.Queue(maxsize=8)
        fetcher = asyncio.create_task(self._fetch(subscription, queue))
        idle_since = time.monotonic()
        try:
            while not self.stop.is_set():
                if fetcher.done():
                    fetcher.result()  # the fetch loop failed (connection lost): raise its error
                try:
                    messages = await asyncio.wait_for(queue.get(), timeout=self.options.refresh)
                except TimeoutError:
                    messages = []
                if messages:
                    idle_since = time.monotonic()
                    await self._process(await self._gather(queue, messages))
                if self.engine.due():
                    await self._commit()
                await self.call(self.engine.publish)
                if self.options.idle_exit is not None and time.monotonic() - idle_since >= self.options.idle_exit:
                    break
        finally:
            fetcher.cancel()
        await self._commit()
        await self.call(self.engine.publish, True)

    @staticmethod
    async def _gather(queue: asyncio.Queue, messages: list) -> list:
        """More fetched messages for the same chunk, for at most LINGER seconds."""
        deadline = time.monotonic() + LINGER
        size = sum(len(m.data) for m in messages)
        while size < CHUNK_BYTES and (left := deadline - time.monotonic()) > 0:
            try:
                more = await asyncio.wait_for(queue.get(), timeout=left)
            except TimeoutError:
                break
            messages = messages + more
            size += sum(len(m.data) for m in more)
        return messages

    async def _fetch(self, subscription, queue: asyncio.Queue) -> None:
        import nats.errors

        while True:
            try:
                messages = await subscription.fetch(self.options.fetch, timeout=FETCH_WAIT)
            except (nats.errors.TimeoutError, TimeoutError):
                continue
            await queue.put(messages)

    async def _process(self, messages: list) -> None:
        self.unacked.extend(messages)
        fresh = [m for m in messages if m.metadata.sequence.stream > self.processed]
        self.engine.redelivered += len(messages) - len(fresh)
        if not fresh:
            return
        fresh.sort(key=lambda m: m.metadata.sequence.stream)
        self.processed = fresh[-1].metadata.sequence.stream
        await self.call(self._decode_and_process, fresh, {**self.position, "last_seq": self.processed})

    def _decode_and_process(self, messages: list, position: dict) -> None:
        with self.engine.watch.stage("decode"):
            parts = [decode(m.data, f"{self.address}#{m.metadata.sequence.stream}") for m in messages]
        self.engine.process(parts, position)

    async def _commit(self) -> None:
        await self.call(self.engine.commit)
        for message in self.unacked:
            await message.ack()
        self.unacked = []
