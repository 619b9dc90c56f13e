"""Building blocks that several releases of a package read, each computed once.

An indicator's contribution SQL is ``WITH name AS (body), … SELECT …`` (see
``blocks.with_query``). A CTE's **definition** is its body together with the
definitions of the earlier CTEs it reads: two contributions holding CTEs of
one definition compute the same rows from relations of the same content.

Before a package runs, ``choose_shared`` reads the contributions of all its
releases and picks the CTEs to keep: a CTE whose definition occurs in at least
two contributions, that is costly (it groups, sorts or numbers rows: stays,
night locations, homes, workplaces), and that is not computed only inside other
kept CTEs: some query outside them reads it (an indicator's own SELECT, or a CTE
particular to one indicator).

While the package runs, ``hoist`` replaces each kept CTE of a statement with a
table computed once per *content key*: its definition plus the content of every
relation it reads (the window's events, calendar, area map…). Releases over
other windows or levels get tables of their own; the rows are those the CTE
gives in a release run alone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from popflow.indicators.blocks import with_query

# Clauses that make a query costly to repeat: it groups, sorts or numbers the rows it reads.
COSTLY = re.compile(r"\b(GROUP\s+BY|OVER\s*\(|DISTINCT|QUALIFY)\b", re.IGNORECASE)
MAIN = ""  # the statement's own SELECT, as a reader of CTEs
_CTE_START = re.compile(r"\s*([A-Za-z_]\w*)\s+AS\s*\(", re.IGNORECASE)
_NAME = r"[A-Za-z_]\w*"
_ALIASED = rf"{_NAME}(?:\s+(?:AS\s+)?{_NAME})?"
# A relation read after FROM or JOIN (group 1), and the rest of a FROM list of aliased names (group 2).
_SOURCE = re.compile(rf"\b(?:FROM|JOIN)\s+({_NAME})(?=((?:\s+(?:AS\s+)?{_NAME})?(?:\s*,\s*{_ALIASED})*))",
                     re.IGNORECASE)


@dataclass(frozen=True)
class Cte:
    """One common table expression of a statement."""

    name: str
    body: str


def split_with(sql: str) -> tuple[list[Cte], str] | None:
    """A ``WITH … SELECT`` statement's top-level CTEs and its main query; None for any other statement."""
    head = re.match(r"\s*WITH\s", sql, re.IGNORECASE)
    if not head:
        return None
    ctes, position = [], head.end()
    while True:
        start = _CTE_START.match(sql, position)
        if not start:
            return None
        end = _closing_parenthesis(sql, start.end())
        if end is None:
            return None
        ctes.append(Cte(start.group(1), sql[start.end():end]))
        following = re.match(r"\s*,", sql[end + 1:])
        if not following:
            return ctes, sql[end + 1:].strip()
        position = end + 1 + following.end()


def _closing_parenthesis(sql: str, position: int) -> int | None:
    """Index of the parenthesis closing the one opened just before ``position`` (quotes and comments skipped)."""
    depth, quote, i = 1, None, position
    while i < len(sql):
        char = sql[i]
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif sql.startswith("--", i):
            i = sql.find("\n", i)
            if i < 0:
                return None
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _reads(text: str, names) -> list[str]:
    """Which of ``names`` a query reads: those named after FROM or JOIN, or in a FROM list (``FROM a, b``)."""
    found = set()
    for source in _SOURCE.finditer(text):
        found.add(source.group(1))
        found.update(re.findall(r",\s*([A-Za-z_]\w*)", source.group(2)))
    return [n for n in names if n in found]


def mentions(text: str, names) -> list[str]:
    """Which of ``names`` occur in ``text`` as words: every CTE a query may read, and perhaps a column so named."""
    return [n for n in names if re.search(rf"\b{re.escape(n)}\b", text)]


def relations_read(sql: str, names) -> list[str]:
    """Which of ``names`` a statement reads, leaving out those its own CTEs define where they are in scope."""
    split = split_with(sql)
    if split is None:
        return _reads(sql, names)
    ctes, main = split
    found, defined = set(), set()
    for cte in ctes:
        found.update(set(_reads(cte.body, names)) - defined)
        defined.add(cte.name)
    found.update(set(_reads(main, names)) - defined)
    return [n for n in names if n in found]


@dataclass(frozen=True)
class Definitions:
    """The CTEs of one statement with each one's definition key and the earlier CTEs it reads."""

    ctes: list[Cte]
    main: str
    keys: dict[str, str]
    inputs: dict[str, list[str]]

    @classmethod
    def of(cls, sql: str) -> Definitions | None:
        split = split_with(sql)
        if split is None:
            return None
        ctes, main = split
        keys, inputs = {}, {}
        for cte in ctes:
            inputs[cte.name] = mentions(cte.body, keys)
            keys[cte.name] = _digest(cte.body, *(f"{n}={keys[n]}" for n in inputs[cte.name]))
        return cls(ctes, main, keys, inputs)

    def closure(self, name: str) -> list[Cte]:
        """The CTE ``name`` and every CTE it reads, directly or not, in statement order."""
        wanted, stack = {name}, [name]
        while stack:
            for dependency in self.inputs[stack.pop()]:
                if dependency not in wanted:
                    wanted.add(dependency)
                    stack.append(dependency)
        return [c for c in self.ctes if c.name in wanted]


def choose_shared(statements: list[str]) -> frozenset[str]:
    """Definition keys of the CTEs worth computing once for these statements (see the module's docstring)."""
    uses: dict[str, int] = {}
    costly: dict[str, bool] = {}
    readers: dict[str, set[str]] = {}
    for sql in statements:
        d = Definitions.of(sql)
        if d is None:
            continue
        for cte in d.ctes:
            key = d.keys[cte.name]
            uses[key] = uses.get(key, 0) + 1
            costly[key] = bool(COSTLY.search(cte.body))
            readers.setdefault(key, set())
            for dependency in d.inputs[cte.name]:
                readers[d.keys[dependency]].add(key)
        for name in mentions(d.main, d.keys):
            readers[d.keys[name]].add(MAIN)
    kept: dict[str, bool] = {MAIN: False}
    inside: dict[str, bool] = {MAIN: False}

    def keep(key: str) -> bool:
        if key not in kept:
            kept[key] = uses[key] > 1 and costly[key] and not only_inside_kept(key)
        return kept[key]

    def only_inside_kept(key: str) -> bool:
        """Whether every query reading ``key`` is kept or itself computed only inside kept ones."""
        if key not in inside:
            inside[key] = all(keep(r) or only_inside_kept(r) for r in readers[key])
        return inside[key]

    return frozenset(key for key in uses if keep(key))


def hoist(sql: str, shared: frozenset[str], content: Callable[[str], str],
          table_for: Callable[[str, str], str]) -> str:
    """``sql`` with each shared CTE reading the table ``table_for(content key, its SQL)`` gives for it.

    ``content(text)`` names the content of the relations a text reads. CTEs
    then read by nothing are left out.
    """
    d = Definitions.of(sql) if shared else None
    if d is None or not shared & set(d.keys.values()):
        return sql
    bodies = {c.name: c.body for c in d.ctes}
    for cte in d.ctes:
        if d.keys[cte.name] not in shared:
            continue
        closure = d.closure(cte.name)
        original = with_query([(c.name, c.body) for c in closure], f"SELECT * FROM {cte.name}")
        block = with_query([(c.name, bodies[c.name]) for c in closure], f"SELECT * FROM {cte.name}")
        bodies[cte.name] = f"SELECT * FROM {table_for(_digest(d.keys[cte.name], content(original)), block)}"
    return with_query([(c.name, bodies[c.name]) for c in _read_by_main(d, bodies)], d.main)


def _read_by_main(d: Definitions, bodies: dict[str, str]) -> list[Cte]:
    """The CTEs the main query reads, directly or not, given their (rewritten) bodies."""
    names = [c.name for c in d.ctes]
    wanted, stack = set(), mentions(d.main, names)
    while stack:
        name = stack.pop()
        if name not in wanted:
            wanted.add(name)
            stack.extend(mentions(bodies[name], names[:names.index(name)]))
    return [c for c in d.ctes if c.name in wanted]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
