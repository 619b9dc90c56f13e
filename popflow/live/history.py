"""What the lake remembers of a stream: its committed micro-batches.

Every micro-batch a stream commits is an ordinary ``events`` batch whose
record (``batch.json``) carries a ``live`` section, written in the same atomic
rename as the rows::

    "live": {"source": "nats:STREAM/SUBJECT" | "dir:/path", "position": {...},
             "high_water": local epoch seconds of the newest committed event,
             "bin": 3600, "lateness": 1800, "late_events": n,
             "closed": [bin starts closed by this batch], "cube": "live/cubes/<id>.parquet" | null}

The position (the last NATS stream sequence; for a landing directory the
fingerprints in ``inputs``) therefore moves exactly when the rows land.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from popflow.errors import PopflowError
from popflow.lake import Lake

DAY = 86_400


@dataclass
class History:
    """The committed live batches of one source, oldest first."""

    lake: Lake
    source: str
    records: list[dict]

    @classmethod
    def load(cls, lake: Lake, source: str) -> History:
        records = [r for r in lake.batches("events") if r.get("live", {}).get("source") == source]
        return cls(lake, source, records)

    @property
    def last(self) -> dict:
        return self.records[-1]["live"] if self.records else {}

    @property
    def position(self) -> dict:
        return self.last.get("position", {})

    @property
    def high_water(self) -> int | None:
        return self.last.get("high_water")

    def check(self, bin_seconds: int, lateness: int) -> None:
        """Refuse other bin or lateness settings than the ones the source was counted with."""
        if self.records and (self.last["bin"], self.last["lateness"]) != (bin_seconds, lateness):
            raise PopflowError(
                f"the live stream from {self.source} was counted with --bin {self.last['bin']}s and "
                f"--lateness {self.last['lateness']}s; restart it with the same values")

    def totals(self) -> dict:
        """Rows accepted, quarantined and late over the source's whole history."""
        rows = [r["quality"]["rows"] for r in self.records]
        return {"accepted": sum(r["accepted"] for r in rows), "quarantined": sum(r["quarantined"] for r in rows),
                "late": sum(r["live"]["late_events"] for r in self.records)}

    def data_files(self, first_day: int) -> list[Path]:
        """Event files of this source's batches on local days from ``first_day`` (days since 1970)."""
        files = []
        for record in self.records:
            for folder in (self.lake.workspace / record["path"] / "data").glob("date=*"):
                if _day(folder.name[len("date="):]) >= first_day:
                    files.extend(sorted(folder.glob("*.parquet")))
        return files

    def cubes(self, since: int) -> list[str]:
        """Cube files holding bins that start at or after ``since``."""
        return [r["live"]["cube"] for r in self.records
                if r["live"].get("cube") and max(r["live"]["closed"]) >= since]

    def committed_cubes(self) -> set[str]:
        return {r["live"]["cube"] for r in self.records if r["live"].get("cube")}


def _day(iso_date: str) -> int:
    return (datetime.date.fromisoformat(iso_date) - datetime.date(1970, 1, 1)).days
