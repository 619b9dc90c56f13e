"""Entry points of popflow's plugin groups (``popflow.indicators``, ``popflow.engines``, ``popflow.sources``).

Built-in and third-party plugins are found the same way: as entry points of the
installed distributions. popflow declares its own built-ins in its
``pyproject.toml``; when popflow runs from a source tree whose installed metadata
lacks some of them (not installed, or installed before they were declared), the
ones that tree's ``pyproject.toml`` declares are added, so a checkout always finds
its own built-ins.
"""

from __future__ import annotations

import functools
import tomllib
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from popflow.errors import PopflowError

SOURCE_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@functools.cache
def discover(group: str) -> tuple[EntryPoint, ...]:
    """The entry points of ``group``: installed ones, then popflow's own from its source tree (names unique).

    Read once per process, like the plugins themselves.
    """
    installed = tuple(entry_points(group=group))
    known = {e.name for e in installed}
    return installed + tuple(e for e in _source_tree_entry_points(group) if e.name not in known)


def load(entry: EntryPoint, kind: str):
    """What an entry point names, imported now; one that cannot be imported is named in a one-line error."""
    try:
        return entry.load()
    except (ImportError, AttributeError) as exc:
        raise PopflowError(f"{kind} '{entry.name}' ({entry.value}) cannot be loaded: {exc}") from exc


def provider(entry: EntryPoint) -> str:
    """The distribution declaring an entry point (popflow's source tree when no installed one does)."""
    return entry.dist.name if entry.dist is not None else "popflow (source tree)"


def _source_tree_entry_points(group: str) -> list[EntryPoint]:
    """The entry points of ``group`` declared by the ``pyproject.toml`` of popflow's source tree, if any."""
    if not SOURCE_PYPROJECT.is_file():
        return []
    project = tomllib.loads(SOURCE_PYPROJECT.read_text(encoding="utf-8")).get("project", {})
    if project.get("name") != "popflow":
        return []
    declared = project.get("entry-points", {}).get(group, {})
    return [EntryPoint(name, value, group) for name, value in declared.items()]
