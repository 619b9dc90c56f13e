"""Escaped-by-default HTML/SVG markup: text is escaped unless it is already ``Markup``."""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Iterable

MISSING = "—"


class Markup(str):
    """A string of markup that is safe to insert as is (never escaped again)."""


def esc(value: object) -> Markup:
    """``value`` as escaped text, or unchanged if it is already markup."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def join(parts: Iterable[object], sep: str = "") -> Markup:
    """Parts (text escaped, markup kept) joined into one piece of markup."""
    return Markup(sep.join(esc(p) for p in parts if p is not None))


def attr_name(key: str) -> str:
    """Python keyword to attribute name: ``class_`` → ``class``, ``stroke_width`` → ``stroke-width``."""
    return key.rstrip("_").replace("_", "-")


def attrs(values: dict[str, object]) -> str:
    """Attributes rendered as ` name="value"`, leaving out those that are None."""
    return "".join(f' {attr_name(k)}="{esc(v)}"' for k, v in values.items() if v is not None)


def el(tag: str, *children: object, **attributes: object) -> Markup:
    """One element; text children are escaped, ``Markup`` children kept."""
    return Markup(f"<{tag}{attrs(attributes)}>{join(children)}</{tag}>")


def void(tag: str, **attributes: object) -> Markup:
    """An element without content, written self-closing (valid in SVG and HTML)."""
    return Markup(f"<{tag}{attrs(attributes)}/>")


def fmt_number(value: object) -> str:
    """Numbers for readers: thousands separators, at most two decimals; None/NaN as a dash."""
    if value is None or (isinstance(value, numbers.Real) and math.isnan(value)):
        return MISSING
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    if isinstance(value, numbers.Integral) or float(value).is_integer():
        return f"{int(value):,}"
    value = float(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")
