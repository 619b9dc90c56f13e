"""Settings of one live stream: bins, lateness, checkpoints, refresh and retention.

Times are seconds. ``bin`` and ``lateness`` are fixed for a source once its
first micro-batch is committed: the closed-bin rule depends on them, so a
restart with other values is refused rather than silently recounting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from popflow.errors import PopflowError
from popflow.indicators.params import parse_bin, parse_duration

NATS_ADDRESS = re.compile(r"^nats://(?P<host>[^:/]+)(?::(?P<port>\d+))?/(?P<subject>[A-Za-z0-9_.\-]+)$")
DEFAULT_NATS_PORT = 4222


@dataclass(frozen=True)
class LiveOptions:
    """How a stream bins, checkpoints and publishes (every field has a CLI option)."""

    bin: int = 3600  # bin length, aligned to local midnight
    lateness: int = 1800  # how long after a bin's end its late events still update it
    checkpoint_every: float = 10.0  # commit a micro-batch to the lake at least this often ...
    checkpoint_events: int = 1_000_000  # ... or once this many rows are pending
    refresh: float = 1.0  # publish the snapshot at most this often (when something changed)
    retain: int = 86_400  # closed bins stay visible this long behind the newest event
    fetch: int = 256  # NATS messages per pull request
    poll: float = 0.5  # landing-directory scan interval
    idle_exit: float | None = None  # stop after the source was idle this long (None: run until stopped)
    fmt: str | None = None  # landing-directory files: csv or parquet (default by suffix)
    durable: str = "popflow-live"  # NATS durable consumer name
    ack_wait: float | None = None  # NATS redelivery timeout (default: 30 s or 6 checkpoints, whichever is longer)

    @classmethod
    def from_text(cls, bin: str = "1h", lateness: str = "30min", checkpoint_every: str = "10s",
                  retain: str = "24h", refresh: str = "1s", **rest) -> LiveOptions:
        """Options from CLI text such as ``1h`` or ``30min``."""
        options = cls(bin=parse_bin(bin), lateness=parse_duration(lateness),
                      checkpoint_every=float(parse_duration(checkpoint_every)), retain=parse_duration(retain),
                      refresh=_seconds(refresh), **rest)
        if options.refresh > 1.0:
            raise PopflowError("--refresh must be at most 1s: the live view updates at least every second")
        return options


def _seconds(text: str) -> float:
    text = str(text).strip()
    if text.endswith("ms") and text[:-2].isdigit():
        return int(text[:-2]) / 1000
    return float(parse_duration(text))


@dataclass(frozen=True)
class SourceAddress:
    """Where events come from: ``dir:PATH`` or ``nats://HOST:PORT/SUBJECT``."""

    kind: str  # "dir" or "nats"
    path: Path | None = None
    host: str = ""
    port: int = DEFAULT_NATS_PORT
    subject: str = ""

    @classmethod
    def parse(cls, text: str) -> SourceAddress:
        if text.startswith("dir:"):
            if not text[4:]:
                raise PopflowError("--source dir:PATH needs a directory")
            return cls("dir", path=Path(text[4:]))
        match = NATS_ADDRESS.match(text)
        if match:
            return cls("nats", host=match["host"], port=int(match["port"] or DEFAULT_NATS_PORT),
                       subject=match["subject"])
        raise PopflowError(f"--source '{text}': use dir:PATH or nats://HOST:PORT/SUBJECT")

    @property
    def server(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"dir:{self.path}" if self.kind == "dir" else f"{self.server}/{self.subject}"
