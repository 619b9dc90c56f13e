"""Settings of one running service (command-line options of ``popflow serve``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class EventClock:
    """The events' "now" (UTC epoch seconds) and how many event seconds pass per wall-clock second: the wall
    clock, or a replay's clock (``popflow demo --live``)."""

    now: Callable[[], float] = time.time
    rate: float = 1.0


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
    event_clock: EventClock = EventClock()  # what the live view's lag is measured against
