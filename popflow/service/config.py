"""Settings of one running service (command-line options of ``popflow serve``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol


class EventClock(Protocol):
    """The events' "now" (UTC epoch seconds) and how many event seconds pass per wall-clock second (``rate``):
    the wall clock, or a replay's clock (``popflow demo --live``)."""

    rate: float

    def now(self) -> float: ...


@dataclass(frozen=True)
class WallClock:
    """The wall clock as the events' clock."""

    rate: float = 1.0

    def now(self) -> float:
        return time.time()


@dataclass(frozen=True)
class ServiceConfig:
    """Limits and switches of the HTTP service; the defaults suit one city's analysts."""

    rate: float = 50.0                 # requests per second per token (token bucket refill)
    burst: int = 100                   # bucket size: requests a token may make at once
    max_body: int = 64 * 1024          # largest request body in bytes (413 beyond)
    workers: int = 1                   # release jobs run at the same time
    max_pending: int = 4               # queued or running jobs per token (429 beyond)
    cors_origins: tuple[str, ...] = ()  # browser origins allowed to call the API; none by default
    cache_entries: int = 64            # serialised release tables kept in memory
    live_poll: float = 0.25            # how often an open live event stream looks for a new snapshot (s)
    live_keepalive: float = 15.0       # seconds between keep-alive comments on an idle live event stream
    event_clock: EventClock = WallClock()  # what the live view's lag is measured against
