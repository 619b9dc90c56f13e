"""The tamper-evident audit log: one JSON line per release, chained by SHA-256.

Each line records who released what, when, with which parameters and privacy
cost, and ``previous``: the SHA-256 of the line before it (64 zeros for the
first). Editing, removing or reordering a line breaks the chain.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import json
from pathlib import Path

GENESIS = "0" * 64


def _digest(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def append(path: Path, entry: dict) -> dict:
    """Append one release record, chained to the last line; returns what was written."""
    with path.open("a+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        lines = fh.read().splitlines()
        record = {"when": datetime.datetime.now(datetime.UTC).isoformat(), **entry,
                  "previous": _digest(lines[-1]) if lines else GENESIS}
        fh.write(json.dumps(record, sort_keys=True, default=str) + "\n")
        fh.flush()
    return record


def verify(path: Path) -> tuple[int, int | None]:
    """(number of lines, first bad line number or None) of an audit log."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    previous = GENESIS
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            return len(lines), number
        if record.get("previous") != previous:
            return len(lines), number
        previous = _digest(line)
    return len(lines), None


def read(path: Path) -> list[dict]:
    """Every audit record, oldest first."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
