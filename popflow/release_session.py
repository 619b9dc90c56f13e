"""One engine session shared by the releases of a package, doing no work twice.

A ``ReleaseSession`` is an engine (the ``Engine`` protocol) over another one.
It knows the content of every relation defined on it: a registered table by a
hash of its rows, a view by its query and the content of what that query reads,
a computed table by its query and the content of its inputs at the time. So:

- defining a relation again with the same content (each release registers its
  window's calendar, events, area map and person weights) does nothing;
- a short answer (at most ``REMEMBERED_ROWS`` rows: a window's span, a count)
  to a query over relations of unchanged content is given again without
  running the query;
- the building blocks chosen by ``shared_blocks.choose_shared`` are computed
  once per content key and read by every release that needs them.

Everything else goes to the engine beneath, unchanged: every release still
computes its own cells and applies its own disclosure control.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa

from popflow.shared_blocks import hoist, relations_read

REMEMBERED_ROWS = 1_000
BLOCK_PREFIX = "block_"


class ReleaseSession:
    """An engine for several releases (see the module docstring); ``shared`` are the blocks to compute once."""

    def __init__(self, engine, shared: frozenset[str] = frozenset()):
        self.engine = engine
        self.name = engine.name
        self.shared = shared
        self._definitions: dict[str, tuple[str, str]] = {}  # relation → ("view", query) or ("table", content)
        self._answers: dict[str, pa.Table] = {}
        self._blocks: set[str] = set()

    def register(self, name: str, table: pa.Table) -> None:
        self._define(name, ("table", _table_digest(table)), lambda: self.engine.register(name, table))

    def create_view(self, name: str, sql: str) -> None:
        self._define(name, ("view", sql), lambda: self.engine.create_view(name, sql))

    def materialize(self, name: str, sql: str) -> None:
        self._define(name, ("table", _digest(sql, self.content(sql))), lambda: self.engine.materialize(name, sql))

    def table(self, sql: str) -> pa.Table:
        key = _digest(sql, self.content(sql))
        if key in self._answers:
            return self._answers[key]
        result = self.engine.table(sql)
        if result.num_rows <= REMEMBERED_ROWS:
            self._answers[key] = result
        return result

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> ReleaseSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def with_blocks(self, sql: str) -> str:
        """``sql`` reading the shared building blocks it holds from tables computed once in this session."""
        return hoist(sql, self.shared, self.content, self._block)

    def content(self, text: str) -> str:
        """The content of the relations defined here that ``text`` reads, as one digest."""
        names = sorted(relations_read(text, self._definitions))
        return _digest(*(f"{name}={self._content_of(name, ())}" for name in names))

    def _content_of(self, name: str, seen: tuple[str, ...]) -> str:
        kind, value = self._definitions[name]
        if kind == "table":
            return value
        inner = [n for n in relations_read(value, self._definitions) if n != name and n not in seen]
        return _digest(value, *(f"{n}={self._content_of(n, (*seen, name))}" for n in inner))

    def _define(self, name: str, definition: tuple[str, str], create) -> None:
        if name in self._definitions and self._content_of(name, ()) == self._content_after(name, definition):
            return
        create()
        self._definitions[name] = definition

    def _content_after(self, name: str, definition: tuple[str, str]) -> str:
        """The content ``name`` would have with ``definition``."""
        previous = self._definitions[name]
        self._definitions[name] = definition
        try:
            return self._content_of(name, ())
        finally:
            self._definitions[name] = previous

    def _block(self, key: str, sql: str) -> str:
        """The table holding a building block with content key ``key``, computed by ``sql`` the first time."""
        name = BLOCK_PREFIX + key[:20]
        if name not in self._blocks:
            self.engine.materialize(name, sql)
            self._blocks.add(name)
        return name


def _table_digest(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue()).hexdigest()


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
