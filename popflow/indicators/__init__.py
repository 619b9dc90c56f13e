"""Indicators register themselves here; built-in and third-party ones alike.

A third-party package registers through the ``popflow.indicators`` entry-point
group, each entry point naming a module that calls ``register`` on import.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from popflow.errors import PopflowError
from popflow.indicators.base import Contribution, Indicator

_REGISTRY: dict[str, Indicator] = {}
_LOADED: list[bool] = []  # set once built-in and entry-point indicators are imported
_BUILT_IN = ("present_population", "residents", "workers", "od_flows", "migration", "tourism",
             "outbound_travel", "sales_penetration", "alerts")


def register(indicator: Indicator) -> Indicator:
    """Add an indicator to the registry (names are unique)."""
    if indicator.name in _REGISTRY and _REGISTRY[indicator.name] is not indicator:
        raise PopflowError(f"indicator '{indicator.name}' is already registered")
    _REGISTRY[indicator.name] = indicator
    return indicator


def _load() -> None:
    if _LOADED:
        return
    _LOADED.append(True)
    for module in _BUILT_IN:
        importlib.import_module(f"popflow.indicators.{module}")
    for entry in entry_points(group="popflow.indicators"):
        entry.load()


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
