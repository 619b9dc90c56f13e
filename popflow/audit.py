"""The tamper-evident audit log: one JSON line per release, chained by SHA-256.

Each line records who released what, when, with which parameters and privacy
cost, and ``previous``: the SHA-256 of the line before it (64 zeros for the
first). Editing, removing or reordering a line breaks the chain. Cutting lines
off the end leaves a valid chain, so a head record (``audit.head``: number of
lines and hash of the last one), rewritten atomically with every append,
catches truncation too.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import json
import os
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
        line = json.dumps(record, sort_keys=True, default=str)
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())
        _write_head(path, len(lines) + 1, _digest(line))
    return record


def _head_path(path: Path) -> Path:
    return path.with_suffix(".head")


def _write_head(path: Path, lines: int, last: str) -> None:
    tmp = _head_path(path).with_suffix(".head.tmp")
    tmp.write_text(json.dumps({"lines": lines, "last": last}))
    os.replace(tmp, _head_path(path))


def verify(path: Path) -> tuple[int, int | None]:
    """(number of lines, first bad line number or None) of an audit log.

    A log shorter than its head record is bad at the first missing line.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = text.splitlines()
    previous = GENESIS
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            return len(lines), number
        if record.get("previous") != previous:
            return len(lines), number
        previous = _digest(line)
    if lines and not text.endswith("\n"):
        return len(lines), len(lines)
    head = json.loads(_head_path(path).read_text()) if _head_path(path).exists() else {"lines": 0, "last": GENESIS}
    if head["lines"] > len(lines):  # lines cut off the end
        return len(lines), len(lines) + 1
    if head["lines"] < len(lines):  # lines appended behind the log's back
        return len(lines), head["lines"] + 1
    if lines and head["last"] != previous:
        return len(lines), len(lines)
    return len(lines), None


def read(path: Path) -> list[dict]:
    """Every audit record, oldest first."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
