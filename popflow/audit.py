"""The tamper-evident audit log: one JSON line per release, chained by a keyed MAC.

Each line records who released what, when, with which parameters and privacy
cost, and ``previous``: HMAC-SHA256 of the line before it (64 zeros for the
first) under the audit key. The audit key is derived from the workspace's
``secret.key`` (mode 0600), so whoever can write the workspace's files but not
read that key cannot forge a line or recompute the chain after editing,
removing, reordering or re-hashing lines. Cutting lines off the end leaves a
valid chain, so a head record (``audit.head``: number of lines, the MAC of the
last one, and a MAC over both), rewritten atomically with every append, catches
truncation too. The privacy ledger is computed from this log (see
``popflow.disclosure.budget``), so a deleted or edited ledger changes nothing.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Callable
from pathlib import Path

from popflow.atomic_files import write_atomically
from popflow.errors import PopflowError
from popflow.pseudonymise import KEY_FILE, load_key

AUDIT_FILE = "audit.jsonl"
GENESIS = "0" * 64


def audit_key(log: Path) -> bytes:
    """The MAC key of the audit log of the workspace holding ``log``, derived from its secret key."""
    if not (log.parent / KEY_FILE).exists():
        raise PopflowError(f"{log.parent} has no {KEY_FILE}: the audit log cannot be signed or checked")
    return hmac.new(load_key(log.parent), b"audit-chain", hashlib.sha256).digest()


def _mac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def append(path: Path, entry: dict, check: Callable[[], None] | None = None) -> dict:
    """Append one release record, chained to the last line; returns the head it makes (``lines``, ``last``).

    ``check()`` runs under the log's lock, before anything is written, and may
    refuse the append by raising (the privacy budget is checked this way, so a
    charge and its audit line are one step).
    """
    key = audit_key(path)
    with path.open("a+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        lines = fh.read().splitlines()
        if check is not None:
            check()
        record = {"when": datetime.datetime.now(datetime.UTC).isoformat(), **entry,
                  "previous": _mac(key, lines[-1]) if lines else GENESIS}
        line = json.dumps(record, sort_keys=True, default=str)
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())
        written = {"lines": len(lines) + 1, "last": _mac(key, line)}
        _write_head(path, key, **written)
    return written


def head(path: Path) -> dict:
    """The current head record: ``lines`` and ``last`` (the MAC of the last line)."""
    stored = _read_head(path)
    return {"lines": stored["lines"], "last": stored["last"]}


def _head_path(path: Path) -> Path:
    return path.with_suffix(".head")


def _write_head(path: Path, key: bytes, lines: int, last: str) -> None:
    write_atomically(_head_path(path), json.dumps({"lines": lines, "last": last, "mac": _mac(key, f"{lines}|{last}")}))


def _read_head(path: Path) -> dict:
    if not _head_path(path).exists():
        return {"lines": 0, "last": GENESIS, "mac": None}
    return json.loads(_head_path(path).read_text())


def verify(path: Path) -> tuple[int, int | None]:
    """(number of lines, first bad line number or None) of an audit log.

    A line is bad when it is not JSON or its ``previous`` is not the keyed MAC
    of the line before. A log shorter than its head record is bad at the first
    missing line; a head whose own MAC is wrong is bad after the last line.
    """
    key = audit_key(path)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = text.splitlines()
    previous = GENESIS
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            return len(lines), number
        if not isinstance(record, dict) or not hmac.compare_digest(str(record.get("previous")), previous):
            return len(lines), number
        previous = _mac(key, line)
    if lines and not text.endswith("\n"):
        return len(lines), len(lines)
    stored = _read_head(path)
    head_mac = _mac(key, f"{stored['lines']}|{stored['last']}")
    if stored["lines"] and not hmac.compare_digest(str(stored.get("mac")), head_mac):
        return len(lines), len(lines) + 1
    if stored["lines"] > len(lines):  # lines cut off the end
        return len(lines), len(lines) + 1
    if stored["lines"] < len(lines):  # lines appended behind the log's back
        return len(lines), stored["lines"] + 1
    if lines and stored["last"] != previous:
        return len(lines), len(lines)
    return len(lines), None


def read(path: Path) -> list[dict]:
    """Every audit record, oldest first."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
