"""Live mode (SPEC §5): ``popflow stream`` and the live view.

Events arrive from a landing directory or NATS JetStream, go through the batch
ingest's validation, quarantine and keyed pseudonymisation, reach the lake in
atomic micro-batches that also hold the source position, and update a
rolling present population per area and bin, published at most every second
in the workspace's default privacy mode (k; ckm perturbs each cell as a ckm
release would; dp is refused)::

    from popflow.live import LiveView, run_stream, replay

    run_stream("ws", "nats://127.0.0.1:4222/events")          # blocks; or `popflow stream`
    LiveView("ws").snapshot(bin="latest", by=("gender",))     # any process

Modules: ``options`` (settings, source addresses), ``wire`` (message
payloads), ``validation`` and ``microbatch`` (ingest reuse, lake commits),
``presence`` (open bins in memory), ``history`` (what the lake remembers),
``engine`` (the whole step), ``publish``/``snapshot``/``view`` (disclosure
control and readers), ``directory``/``nats_source`` (sources), ``stream``
(running), ``replay`` (synthetic scenarios into a source), ``commands`` (CLI).
"""

from popflow.live.options import LiveOptions, SourceAddress
from popflow.live.replay import replay
from popflow.live.stream import run_stream
from popflow.live.view import LiveSnapshot, LiveView

__all__ = ["LiveOptions", "LiveSnapshot", "LiveView", "SourceAddress", "replay", "run_stream"]
