"""What a token may see and do: roles, indicators and the finest area level.

Area levels are ordered by depth in the area hierarchy: the root level (e.g.
``province``) first, the finest areas (e.g. ``district``) last. A token with
``min_level`` city may use city and province, not district: finer means
closer to the finest areas, where fewer people share a cell.
"""

from __future__ import annotations

from popflow.service.tokens import Token

CAN_CREATE = ("analyst", "admin")


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


def release_visible(token: Token, manifest: dict, levels: list[str]) -> bool:
    """Whether a published release is within the token's indicators and levels."""
    level = (manifest.get("parameters") or {}).get("level")
    return indicator_allowed(token, manifest.get("indicator", "")) and level_allowed(token, level, levels)


def may_create(token: Token) -> bool:
    return token.role in CAN_CREATE
