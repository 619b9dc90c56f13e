"""API tokens: created once, stored hashed in the workspace, checked in constant time.

A token is ``pf_`` followed by 32 random bytes (URL-safe base64). Only its
SHA-256 is kept, in ``<workspace>/tokens.json`` (file mode 0600), with the
token's name, role and scope. The raw token is returned once by ``create``
and never stored, printed again or logged.

Roles: ``viewer`` reads published releases; ``analyst`` also creates releases,
within its ``indicators``, no finer than its ``min_level`` and in its
``privacy_modes``; ``admin`` may do everything, including reading the audit log.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from popflow.errors import PopflowError
from popflow.settings import PRIVACY_MODES

TOKENS_FILE = "tokens.json"
_LOCK_FILE = ".tokens.lock"
PREFIX = "pf_"
ROLES = ("viewer", "analyst", "admin")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def digest(raw: str) -> str:
    """SHA-256 (hex) of a raw token: what the store keeps."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Token:
    """A stored token: who it is for and what it may do (never the raw token)."""

    name: str
    role: str
    sha256: str
    created_at: str
    indicators: tuple[str, ...] | None = None
    min_level: str | None = None
    expires_at: str | None = None
    revoked_at: str | None = None
    privacy_modes: tuple[str, ...] | None = None  # disclosure-control modes the token may use and read

    def expired(self, now: datetime.datetime | None = None) -> bool:
        return self.expires_at is not None and datetime.datetime.fromisoformat(self.expires_at) <= (now or _now())

    def status(self) -> str:
        """``active``, ``expired`` or ``revoked``."""
        return "revoked" if self.revoked_at else ("expired" if self.expired() else "active")

    def public(self) -> dict:
        """The token's description without its hash."""
        data = asdict(self)
        data.pop("sha256")
        data["indicators"] = list(self.indicators) if self.indicators is not None else None
        data["privacy_modes"] = list(self.privacy_modes) if self.privacy_modes is not None else None
        data["status"] = self.status()
        return data


def _from_dict(data: dict) -> Token:
    lists = {name: tuple(data[name]) if data.get(name) is not None else None
             for name in ("indicators", "privacy_modes")}
    return Token(**{**data, **lists})


class TokenStore:
    """The tokens of one workspace (``tokens.json``)."""

    def __init__(self, workspace: Path):
        self.path = Path(workspace) / TOKENS_FILE
        self.lock = Path(workspace) / _LOCK_FILE
        self._cache: tuple[int, list[Token]] | None = None

    def tokens(self) -> list[Token]:
        """Every token, re-read when the file changed (a revocation applies at once)."""
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return []
        if self._cache is None or self._cache[0] != stamp:
            records = json.loads(self.path.read_text(encoding="utf-8"))
            self._cache = (stamp, [_from_dict(r) for r in records])
        return self._cache[1]

    def create(self, name: str, role: str, indicators: tuple[str, ...] | None = None,
               min_level: str | None = None, expires_at: datetime.datetime | None = None,
               privacy_modes: tuple[str, ...] | None = None) -> tuple[str, Token]:
        """Make a token; returns (raw token, its record). The raw token is not kept."""
        _check_new(name, role, indicators, min_level, privacy_modes)
        raw = PREFIX + secrets.token_urlsafe(32)
        token = Token(name=name, role=role, sha256=digest(raw), created_at=_now().isoformat(),
                      indicators=tuple(indicators) if indicators else None, min_level=min_level,
                      expires_at=expires_at.astimezone(datetime.UTC).isoformat() if expires_at else None,
                      privacy_modes=tuple(privacy_modes) if privacy_modes else None)
        with self._locked():
            current = self.tokens()
            if any(t.name == name for t in current):
                raise PopflowError(f"a token named '{name}' already exists (names stay unique, even after revoke)")
            self._write([*current, token])
        return raw, token

    def unused_name(self, role: str) -> str:
        """The default name of a new token: its role and the first number no token of that name has."""
        taken = {t.name for t in self.tokens()}
        return next(f"{role}-{n}" for n in range(1, len(taken) + 2) if f"{role}-{n}" not in taken)

    def revoke(self, name: str) -> Token:
        """Mark a token revoked; it is refused from then on."""
        with self._locked():
            current = self.tokens()
            if not any(t.name == name for t in current):
                raise PopflowError(f"no token named '{name}'")
            updated = [Token(**{**asdict(t), "revoked_at": t.revoked_at or _now().isoformat()})
                       if t.name == name else t for t in current]
            self._write(updated)
        return next(t for t in updated if t.name == name)

    def authenticate(self, raw: str | None) -> Token | None:
        """The active token matching ``raw``, else None (unknown, expired or revoked)."""
        if not raw or not raw.startswith(PREFIX) or len(raw) > 128:
            return None
        presented = digest(raw)
        found = None
        for token in self.tokens():  # compare with every record, in constant time each
            if hmac.compare_digest(presented, token.sha256):
                found = token
        if found is None or found.revoked_at or found.expired():
            return None
        return found

    def _write(self, tokens: list[Token]) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            records = [{**asdict(t), "indicators": list(t.indicators) if t.indicators else None} for t in tokens]
            json.dump(records, fh, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)
        self._cache = None

    @contextlib.contextmanager
    def _locked(self):
        with self.lock.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield


def _check_new(name: str, role: str, indicators, min_level, privacy_modes=None) -> None:
    if not _NAME.match(name or ""):
        raise PopflowError("a token name is 1–64 letters, digits, '_', '.' or '-'")
    if role not in ROLES:
        raise PopflowError(f"role must be one of {', '.join(ROLES)}")
    if role == "admin" and (indicators or min_level):
        raise PopflowError("an admin token may do everything: --indicators and --min-level apply to "
                           "analyst and viewer tokens only")
    unknown = set(privacy_modes or ()) - set(PRIVACY_MODES)
    if unknown:
        raise PopflowError(f"--privacy-modes {','.join(sorted(unknown))}: modes are {', '.join(PRIVACY_MODES)}")
