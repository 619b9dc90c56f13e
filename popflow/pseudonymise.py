"""Keyed pseudonyms for person identifiers.

A pseudonym is the first 8 bytes of HMAC-SHA256(secret key, raw identifier),
read as a signed big-endian 64-bit integer. The key is 32 random bytes kept
in ``secret.key`` (mode 0600) beside the lake, never inside it. Because the
hash is keyed, enumerating all phone numbers does not reverse it. 64 bits
keep joins and group-bys fast; the chance of any collision among 10 million
people is about 3 in a million.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

KEY_FILE = "secret.key"
KEY_BYTES = 32
QUARANTINE_KEY_LABEL = b"popflow quarantined values"


def create_key(workspace: Path, effective_from: datetime.date | None = None) -> Path:
    """Write a new random key readable by its owner only.

    The first key is ``secret.key``; a rotated key ``secret-YYYY-MM-DD.key``
    pseudonymises records from that local date on.
    """
    path = workspace / (KEY_FILE if effective_from is None else f"secret-{effective_from.isoformat()}.key")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(KEY_BYTES))
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return path


def load_key(workspace: Path, name: str = KEY_FILE) -> bytes:
    """Read a workspace key (by default the first one)."""
    key = (workspace / name).read_bytes()
    if len(key) != KEY_BYTES:
        raise ValueError(f"{name} must hold {KEY_BYTES} bytes")
    return key


def key_schedule(workspace: Path) -> list[datetime.date]:
    """Dates from which rotated keys apply, oldest first."""
    return sorted(datetime.date.fromisoformat(p.stem[len("secret-"):]) for p in workspace.glob("secret-*.key"))


class KeyRing:
    """Every key of a workspace with the local date from which it applies.

    Records dated before the first rotation use ``secret.key``; records dated
    on or after a rotation date use that rotation's key. Registers without a
    date (subscribers) are pseudonymised under every key so they join events
    of every period.
    """

    def __init__(self, workspace: Path):
        self.dates = key_schedule(workspace)
        first = load_key(workspace)
        self.pseudonymisers = [Pseudonymiser(first)] + [
            Pseudonymiser(load_key(workspace, f"secret-{d.isoformat()}.key")) for d in self.dates]
        # Values of quarantined records are hashed under a key of their own, derived from the first key,
        # so they cannot be joined to the lake's pseudonyms.
        self.values = Pseudonymiser(hmac.new(first, QUARANTINE_KEY_LABEL, hashlib.sha256).digest())

    @property
    def schedule_id(self) -> str:
        """Identifies the set of keys (not their values): the rotation dates."""
        return ",".join(d.isoformat() for d in self.dates)

    def columns(self, raw) -> list[pa.Array]:
        """The pseudonyms of a raw identifier column under each key, oldest key first."""
        return [p.column(raw) for p in self.pseudonymisers]

    def linked(self, raw) -> pa.Array:
        """Pseudonyms of identifiers that point to a person's record (a ticket, an order), under the first
        key whatever their date, so that a repeated id is recognised across key rotations."""
        return self.pseudonymisers[0].column(raw)

    def person_sql(self, local_date: str) -> str:
        """SQL choosing ``person`` (first key) or ``person__i`` by a record's local date."""
        branches = " ".join(f"WHEN {local_date} >= DATE '{d.isoformat()}' THEN person__{i}"
                            for i, d in reversed(list(enumerate(self.dates, start=1))))
        return f"CASE {branches} ELSE person END" if self.dates else "person"

    def keyed_sql(self, relation: str) -> str:
        """``relation`` with ``person`` the pseudonym under the key of each row's local date (column ``local``)."""
        return f"SELECT * EXCLUDE (person), {self.person_sql('local::DATE')} AS person FROM {relation}"


CACHE_LIMIT = 5_000_000


class Pseudonymiser:
    """Maps raw identifiers to 64-bit keyed pseudonyms.

    HMAC-SHA256 (RFC 2104) is computed from two SHA-256 states pre-keyed with
    the inner and outer pads, which is the same function as ``hmac.new`` but
    avoids re-deriving the pads per identifier. Identifiers already hashed are
    kept in memory (never on disk), up to CACHE_LIMIT, as two Arrow arrays, so
    that a batch's known identifiers are looked up by one vectorised hash join
    (``pyarrow.compute.index_in``) and only new ones are hashed in Python. A
    pickled pseudonymiser (sent to a Spark executor inside a task) carries the
    key and no cache.
    """

    def __init__(self, key: bytes):
        self._key = key
        block = key.ljust(hashlib.sha256().block_size, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        self._seen = pa.array([], pa.string())  # identifiers hashed so far, each once
        self._pseudonyms = pa.array([], pa.int64())  # their pseudonyms, in the same order

    def __reduce__(self):
        return Pseudonymiser, (self._key,)

    def one(self, raw: str) -> int:
        """The pseudonym of one raw identifier."""
        inner = self._inner.copy()
        inner.update(raw.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return int.from_bytes(outer.digest()[:8], "big", signed=True)

    def column(self, raw: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Pseudonymise a column of text, or of dictionary-encoded text; nulls stay null.

        Each dictionary value (a chunk's, when the column is dictionary-encoded)
        is looked up in one pass over all of them, and each identifier not seen
        before is hashed once (identifiers repeat across events), then the
        pseudonyms are spread back by dictionary index.
        """
        chunks = raw.chunks if isinstance(raw, pa.ChunkedArray) else [raw]
        if chunks and all(pa.types.is_dictionary(chunk.type) for chunk in chunks):
            pseudonyms = self._of_values(pa.concat_arrays([chunk.dictionary.cast(pa.string()) for chunk in chunks]))
            spread, start = [], 0
            for chunk in chunks:  # each chunk's indices point into its own stretch of the pseudonyms
                spread.append(pc.take(pseudonyms.slice(start, len(chunk.dictionary)), chunk.indices))
                start += len(chunk.dictionary)
            return pa.concat_arrays(spread)
        encoded = pc.dictionary_encode(_combine(raw).cast(pa.string()))
        return pc.take(self._of_values(encoded.dictionary), encoded.indices)

    def _of_values(self, values: pa.Array) -> pa.Array:
        """The pseudonyms of identifiers, which may repeat (nulls stay null); new ones are hashed once each."""
        values = values.cast(pa.string())
        position = pc.index_in(values, value_set=self._seen)
        unknown = pc.and_(pc.is_null(position), pc.is_valid(values))
        new = values.filter(unknown)
        distinct = pc.unique(new)
        if len(self._seen) + len(distinct) > CACHE_LIMIT:  # start again from this batch's identifiers
            self._seen, self._pseudonyms = pa.array([], pa.string()), pa.array([], pa.int64())
            position, unknown = pa.nulls(len(values), pa.int32()), pc.is_valid(values)
            new = values.filter(unknown)
            distinct = pc.unique(new)
        pseudonyms = pc.take(self._pseudonyms, position)
        if not len(new):
            return pseudonyms
        hashed = pa.array([self.one(v) for v in distinct.to_pylist()], pa.int64())
        self._seen = pa.concat_arrays([self._seen, distinct])
        self._pseudonyms = pa.concat_arrays([self._pseudonyms, hashed])
        # The new ones, in their order.
        return pc.replace_with_mask(pseudonyms, unknown, pc.take(hashed, pc.index_in(new, value_set=distinct)))


def _combine(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    return values
