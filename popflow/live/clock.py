"""Where a stream's time goes, and local times for people."""

from __future__ import annotations

import datetime
import time
import zoneinfo
from collections import Counter
from contextlib import contextmanager


class Stopwatch:
    """Seconds spent per stage (decode, validate, count, commit, publish, ...)."""

    def __init__(self):
        self.seconds: Counter[str] = Counter()

    @contextmanager
    def stage(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started

    def report(self) -> dict:
        return {name: round(value, 3) for name, value in sorted(self.seconds.items())}


def local_iso(local_epoch: int | None, timezone: str) -> str | None:
    """Local epoch seconds (wall-clock seconds since 1970-01-01 local) as ISO 8601 with the offset."""
    if local_epoch is None:
        return None
    wall = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=int(local_epoch))
    return wall.replace(tzinfo=zoneinfo.ZoneInfo(timezone)).isoformat()


def local_now(timezone: str) -> int:
    """The current wall-clock time as local epoch seconds."""
    now = datetime.datetime.now(zoneinfo.ZoneInfo(timezone)).replace(tzinfo=None)
    return int((now - datetime.datetime(1970, 1, 1)).total_seconds())


def utc_now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()
