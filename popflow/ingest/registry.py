"""The input sources popflow can ingest, by name; built-in and third-party ones alike.

Sources are discovered through the ``popflow.sources`` entry-point group: each
entry point's name is the source's name and its value a ``SourceSpec``
(``module:attribute``). popflow's own sources are entry points of its
``pyproject.toml``, as a third party's are of its package's.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from importlib.metadata import EntryPoint

from popflow.errors import PopflowError
from popflow.ingest.source import SourceSpec
from popflow.plugins import discover, load, provider

GROUP = "popflow.sources"
NAME = re.compile("[a-z][a-z0-9_]*")  # a source's name is its relation's name in SQL, unquoted


class Sources(Mapping[str, SourceSpec]):
    """Every source of the entry-point group by name, in the order found; read whenever asked, so a source
    installed after ``plugins.discover`` is cleared is found too."""

    def __getitem__(self, name: str) -> SourceSpec:
        return _loaded()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(_loaded())

    def __len__(self) -> int:
        return len(_loaded())


SOURCES = Sources()


def _loaded() -> dict[str, SourceSpec]:
    return _specs(discover(GROUP))


@functools.cache
def _specs(entries: tuple[EntryPoint, ...]) -> dict[str, SourceSpec]:
    """Each entry point's ``SourceSpec``; one that cannot be loaded, is no ``SourceSpec``, is named otherwise,
    has a name SQL cannot use or repeats another's name is named in a one-line error (every time: an error
    is not cached)."""
    found: dict[str, tuple[EntryPoint, SourceSpec]] = {}
    for entry in entries:
        spec = load(entry, "source")
        if not isinstance(spec, SourceSpec):
            raise PopflowError(f"{_declared(entry)} is not a SourceSpec")
        if spec.name != entry.name:
            raise PopflowError(f"{_declared(entry)} names itself '{spec.name}'")
        if not NAME.fullmatch(entry.name):
            raise PopflowError(f"{_declared(entry)}: a source's name is lowercase letters, digits and _")
        if entry.name in found:
            raise PopflowError(f"{_declared(entry)} repeats the name of {_declared(found[entry.name][0])}")
        found[entry.name] = entry, spec
    return {name: spec for name, (_, spec) in found.items()}


def _declared(entry: EntryPoint) -> str:
    """A source's entry point, as an error names it."""
    return f"source '{entry.name}' ({entry.value}, from {provider(entry)})"


def source(name: str) -> SourceSpec:
    """The source called ``name``."""
    if name not in SOURCES:
        raise PopflowError(f"unknown source '{name}' (sources: {', '.join(SOURCES)})")
    return SOURCES[name]


def ingest_order() -> tuple[str, ...]:
    """Every source, each after the sources it ``reads`` (areas before cells, cells before events), otherwise
    in the order found."""
    order: list[str] = []

    def place(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path:
            raise PopflowError(f"sources read each other in a cycle: {' → '.join((*path, name))}")
        for needed in source(name).reads:
            place(needed, (*path, name))
        order.append(name)

    for name in SOURCES:
        place(name, ())
    return tuple(order)
