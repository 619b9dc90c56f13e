"""Indicators register themselves here; built-in and third-party ones alike.

Indicators are discovered through the ``popflow.indicators`` entry-point group:
each entry point names a module that calls ``register`` on import. popflow's own
indicators are entry points of its ``pyproject.toml``, as a third party's are of
its package's.
"""

from __future__ import annotations

from popflow.errors import PopflowError
from popflow.indicators.base import Contribution, Indicator
from popflow.plugins import discover, load

GROUP = "popflow.indicators"

_REGISTRY: dict[str, Indicator] = {}
_LOADED: list[bool] = []  # set once every entry point's module is imported


def register(indicator: Indicator) -> Indicator:
    """Add an indicator to the registry (names are unique)."""
    if indicator.name in _REGISTRY and _REGISTRY[indicator.name] is not indicator:
        raise PopflowError(f"indicator '{indicator.name}' is already registered")
    _REGISTRY[indicator.name] = indicator
    return indicator


def _load() -> None:
    """Import every entry point's module; one that cannot be imported is named in the error, every time."""
    if _LOADED:
        return
    for entry in discover(GROUP):
        load(entry, "indicator")
    _LOADED.append(True)


def get(name: str) -> Indicator:
    """The indicator called ``name``."""
    _load()
    if name not in _REGISTRY:
        raise PopflowError(f"unknown indicator '{name}' (indicators: {', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[name]


def all_indicators() -> list[Indicator]:
    """Every registered indicator, by name."""
    _load()
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]


__all__ = ["Contribution", "Indicator", "register", "get", "all_indicators"]
