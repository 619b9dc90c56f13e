"""SVG building blocks: the root element, linear scales, nice ticks and colour scales."""

from __future__ import annotations

import math
from dataclasses import dataclass

from popflow.report.markup import Markup, el, void

# Colour-blind-safe categorical colours (Okabe–Ito, without yellow which is hard to see on white).
CATEGORICAL = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#56b4e9", "#e69f00", "#000000")
# Sequential light → dark blue-green ramp for choropleths, one colour per class.
SEQUENTIAL = ("#edf8fb", "#b2e2e2", "#66c2a4", "#2ca25f", "#006d2c")
NO_VALUE_FILL = "url(#too-few)"


def svg_root(width: float, height: float, *children: object, label: str, class_: str = "chart") -> Markup:
    """An ``<svg>`` that scales to its container's width, with an accessible label."""
    return el("svg", el("title", label), *children, viewBox=f"0 0 {width:g} {height:g}", role="img",
              aria_label=label, class_=class_)


@dataclass(frozen=True)
class LinearScale:
    """Maps a data interval onto a pixel interval (reversed pixel ranges allowed)."""

    lo: float
    hi: float
    px_lo: float
    px_hi: float

    def __call__(self, value: float) -> float:
        span = self.hi - self.lo
        share = 0.5 if span == 0 else (value - self.lo) / span
        return round(self.px_lo + share * (self.px_hi - self.px_lo), 2)


def nice_step(span: float, count: int) -> float:
    """A round step (1, 2 or 5 × 10ⁿ) giving about ``count`` intervals over ``span``."""
    raw = max(span, 1e-12) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def nice_ticks(hi: float, count: int = 5) -> list[float]:
    """Round tick values from 0 up to at least ``hi``."""
    step = nice_step(hi, count)
    top = math.ceil(max(hi, step) / step) * step
    return [i * step for i in range(round(top / step) + 1)]


def class_breaks(values: list[float], classes: int = len(SEQUENTIAL)) -> list[float]:
    """Upper bounds of up to ``classes`` quantile classes of ``values`` (distinct, ascending)."""
    ordered = sorted(values)
    if not ordered:
        return []
    picks = [ordered[min(len(ordered) - 1, math.ceil(len(ordered) * (i + 1) / classes) - 1)]
             for i in range(classes)]
    return sorted(set(picks))


def class_colour(value: float, breaks: list[float]) -> str:
    """The sequential colour of the class ``value`` falls in (spread over the whole ramp)."""
    index = next((i for i, b in enumerate(breaks) if value <= b), len(breaks) - 1)
    if len(breaks) <= 1:
        return SEQUENTIAL[-1]
    position = round(index * (len(SEQUENTIAL) - 1) / (len(breaks) - 1))
    return SEQUENTIAL[position]


def hatch_pattern() -> Markup:
    """The ``<pattern>`` drawn where a value was too small to publish (grey with diagonal lines)."""
    return el("defs", el(
        "pattern",
        void("rect", width=6, height=6, fill="#e5e5e5"),
        void("path", d="M0,6 L6,0", stroke="#9a9a9a", stroke_width=1.2),
        id="too-few", width=6, height=6, patternUnits="userSpaceOnUse",
    ))
