"""What a token may see and do: roles, indicators, the finest area level and privacy modes.

Area levels are ordered by depth in the area hierarchy: the root level (e.g.
``province``) first, the finest areas (e.g. ``district``) last. A token with
``min_level`` city may use city and province, not district: finer means
closer to the finest areas, where fewer people share a cell.

A release request is checked as a whole, from its parameter object: every
field that names an area level (parsed by ``parse_level``: ``level``,
``origin_level``, …), at its given value or at the level its default resolves
to, and every field that names another indicator (``indicator`` on a derived
indicator's parameters, e.g. ``alerts``), together with the parameters handed
on to that indicator (``source_params``), checked the same way.
"""

from __future__ import annotations

import dataclasses

from popflow import indicators
from popflow.errors import PopflowError
from popflow.indicators.params import from_text, parse_level
from popflow.service.tokens import Token
from popflow.settings import PRIVACY_MODES


def level_order(area_rows: list[dict]) -> list[str]:
    """Area levels from the coarsest to the finest (by the depth of their areas)."""
    by_id = {r["area_id"]: r for r in area_rows}
    depth: dict[str, int] = {}
    for row in area_rows:
        d, parent = 0, row["parent_id"]
        while parent and parent in by_id and d <= len(area_rows):
            d, parent = d + 1, by_id[parent]["parent_id"]
        level = str(row["level"])
        depth[level] = max(depth.get(level, 0), d)
    return sorted(depth, key=lambda name: (depth[name], name))


def finest_level(levels: list[str]) -> str | None:
    return levels[-1] if levels else None


def level_allowed(token: Token, level: str | None, levels: list[str]) -> bool:
    """Whether ``level`` (None: the finest) is no finer than the token's ``min_level``."""
    if token.role == "admin" or token.min_level is None:
        return True
    wanted = level if level is not None else finest_level(levels)
    if wanted not in levels or token.min_level not in levels:
        return False
    return levels.index(wanted) <= levels.index(token.min_level)


def indicator_allowed(token: Token, indicator: str) -> bool:
    return token.role == "admin" or token.indicators is None or indicator in token.indicators


def privacy_allowed(token: Token, mode: str, default_mode: str) -> bool:
    """Whether ``token`` may create or read a release made in privacy ``mode``.

    A token limited to privacy modes uses those; a viewer without such a limit reads
    releases at least as protective as the workspace's default (k < ckm < dp); an
    analyst without one, and an admin, any mode.
    """
    if token.role == "admin":
        return True
    if token.privacy_modes is not None:
        return mode in token.privacy_modes
    if token.role == "viewer":
        return mode in PRIVACY_MODES and PRIVACY_MODES.index(mode) >= PRIVACY_MODES.index(default_mode)
    return True


def unlimited(token: Token) -> bool:
    """Whether the token may use every indicator at every level."""
    return token.role == "admin" or (token.indicators is None and token.min_level is None)


def level_fields(params_type: type) -> list[dataclasses.Field]:
    """The fields of a parameter object that name an area level: those parsed as one."""
    return [f for f in dataclasses.fields(params_type) if f.metadata.get("parse") is parse_level]


def indicator_fields(params_type: type) -> list[dataclasses.Field]:
    """The fields that name another indicator: ``indicator`` on a derived indicator's parameters."""
    if not callable(getattr(params_type, "source_params", None)):
        return []
    return [f for f in dataclasses.fields(params_type) if f.name == "indicator"]


def default_level(f: dataclasses.Field, levels: list[str]) -> str | None:
    """The level an unset level field stands for, as its help states (the finest unless it says the coarsest)."""
    if "coarsest" in f.metadata.get("help", ""):
        return levels[0] if levels else None
    return finest_level(levels)


def source_request(params) -> tuple[str, object] | None:
    """The indicator a derived parameter object watches and the parameters it hands on (None: not derived)."""
    named = indicator_fields(type(params))
    if not named:
        return None
    source = indicators.get(getattr(params, named[0].name))
    accepted = {f.name for f in dataclasses.fields(source.params)}
    handed = {k: v for k, v in params.source_params().items() if k in accepted}
    return source.name, from_text(source.params, handed)


def check_levels(params, levels: list[str]) -> None:
    """Refuse a level field naming a level the workspace does not have."""
    for f in level_fields(type(params)):
        value = getattr(params, f.name)
        if value is not None and value not in levels:
            raise PopflowError(f"{f.metadata['flag']} {value}: not an area level of this workspace "
                              f"(levels: {', '.join(levels) or 'none yet'})")


def refusal(token: Token, indicator: str, params, levels: list[str]) -> str | None:
    """Why ``token`` may not release ``indicator`` with ``params`` (a parameter object); None when it may.

    Raises ``PopflowError`` when a watched indicator or its parameters are invalid (for every token)."""
    source = source_request(params)
    if unlimited(token):
        return None
    if not indicator_allowed(token, indicator):
        return f"outside this token's scope: the indicator '{indicator}'"
    for f in level_fields(type(params)):
        value = getattr(params, f.name)
        if value is None and source is not None:
            continue  # handed on to the watched indicator, checked there at the level it resolves to
        wanted = value if value is not None else default_level(f, levels)
        if not level_allowed(token, wanted, levels):
            default = " (its default)" if value is None else ""
            return (f"outside this token's scope: {f.name} '{wanted}'{default} is finer than this token's "
                    f"finest level '{token.min_level}'")
    if source is not None:
        name, handed = source
        found = refusal(token, name, handed, levels)
        return found and f"{found} (in {name}, watched by {indicator})"
    return None


def release_visible(token: Token, manifest: dict, levels: list[str], default_mode: str) -> bool:
    """Whether a published release is within the token's privacy modes, indicators and levels (its parameters
    as released)."""
    if not privacy_allowed(token, (manifest.get("privacy") or {}).get("mode", ""), default_mode):
        return False
    if unlimited(token):
        return True
    try:
        indicator = indicators.get(manifest.get("indicator", ""))
        names = {f.name for f in dataclasses.fields(indicator.params)}
        stored = manifest.get("parameters") or {}
        params = indicator.params(**{k: v for k, v in stored.items() if k in names})
        return refusal(token, indicator.name, params, levels) is None
    except (PopflowError, TypeError, ValueError):
        return False  # a release this service cannot read the parameters of is shown to unlimited tokens only
