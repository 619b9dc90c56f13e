"""Charts drawn as inline SVG: a multi-series line chart with gaps and a horizontal bar chart."""

from __future__ import annotations

from dataclasses import dataclass

from popflow.report.markup import Markup, el, fmt_number, join, void
from popflow.report.svg import CATEGORICAL, LinearScale, nice_ticks, svg_root

WIDTH = 900
LINE_HEIGHT = 340
MARGIN = {"left": 64, "right": 16, "top": 14, "bottom": 36}
BAR_HEIGHT = 22
BAR_LABEL_WIDTH = 190


@dataclass(frozen=True)
class Series:
    """One line: ``points`` are (x, y) with y None where the value is not published."""

    label: str
    points: list[tuple[float, float | None]]


def line_path(points: list[tuple[float, float | None]], x: LinearScale, y: LinearScale) -> str:
    """SVG path data that lifts the pen at every missing value, so gaps stay gaps."""
    commands, pen_down = [], False
    for px, py in points:
        if py is None:
            pen_down = False
            continue
        commands.append(f"{'L' if pen_down else 'M'}{x(px)},{y(py)}")
        pen_down = True
    return " ".join(commands)


def isolated_points(points: list[tuple[float, float | None]]) -> list[tuple[float, float]]:
    """Published values with no published neighbour: a path alone would not show them."""
    values = [p[1] for p in points]
    return [(px, py) for i, (px, py) in enumerate(points)
            if py is not None
            and (i == 0 or values[i - 1] is None)
            and (i == len(points) - 1 or values[i + 1] is None)]


def y_axis(y: LinearScale, ticks: list[float], left: float, right: float) -> Markup:
    """Horizontal grid lines with value labels on the left."""
    return join(
        join([void("line", x1=left, x2=right, y1=y(t), y2=y(t), class_="grid"),
              el("text", fmt_number(t), x=left - 6, y=y(t), class_="tick", text_anchor="end",
                 dominant_baseline="middle")])
        for t in ticks)


def x_axis(x: LinearScale, ticks: list[tuple[float, str]], top: float, bottom: float) -> Markup:
    """Vertical tick marks with labels (e.g. dates) under the plot."""
    return join(
        join([void("line", x1=x(v), x2=x(v), y1=top, y2=bottom, class_="grid minor"),
              el("text", label, x=x(v), y=bottom + 18, class_="tick", text_anchor="middle")])
        for v, label in ticks)


def line_chart(series: list[Series], x_ticks: list[tuple[float, str]], label: str) -> Markup:
    """A line per series over a shared x range; missing values are drawn as breaks in the line."""
    xs = [px for s in series for px, _ in s.points]
    top_value = max((py for s in series for _, py in s.points if py is not None), default=1)
    y_ticks = nice_ticks(top_value)
    left, right = MARGIN["left"], WIDTH - MARGIN["right"]
    top, bottom = MARGIN["top"], LINE_HEIGHT - MARGIN["bottom"]
    x = LinearScale(min(xs, default=0), max(xs, default=1), left, right)
    y = LinearScale(0, y_ticks[-1], bottom, top)
    lines = [series_marks(s, x, y, CATEGORICAL[i % len(CATEGORICAL)]) for i, s in enumerate(series)]
    return svg_root(WIDTH, LINE_HEIGHT, y_axis(y, y_ticks, left, right), x_axis(x, x_ticks, top, bottom),
                    *lines, label=label)


def series_marks(series: Series, x: LinearScale, y: LinearScale, colour: str) -> Markup:
    """One series: its broken line plus dots for values standing alone between gaps."""
    dots = [void("circle", cx=x(px), cy=y(py), r=2.5, fill=colour) for px, py in isolated_points(series.points)]
    path = void("path", d=line_path(series.points, x, y), stroke=colour, class_="series")
    return el("g", el("title", series.label), path, *dots, class_="line")


def legend(labels: list[str]) -> Markup:
    """An HTML legend matching ``line_chart``'s colours, in the same order."""
    items = [el("li", el("span", class_="swatch", style=f"background:{CATEGORICAL[i % len(CATEGORICAL)]}"), text)
             for i, text in enumerate(labels)]
    return el("ul", *items, class_="legend")


def bar_chart(bars: list[tuple[str, float]], label: str, unit: str = "people",
              codes: list[str] | None = None) -> Markup:
    """Horizontal bars, one per (label, value), longest first as given; values printed at the bar ends.

    ``codes`` (one per bar) are the codes the labels name, shown in each bar's tooltip.
    """
    height = MARGIN["top"] + BAR_HEIGHT * len(bars) + 8
    left, right = BAR_LABEL_WIDTH, WIDTH - 80
    x = LinearScale(0, max((v for _, v in bars), default=1), left, right)
    tips = [text if not codes or codes[i] == text else f"{text} ({codes[i]})" for i, (text, _) in enumerate(bars)]
    rows = [bar(i, text, value, x, f"{tip}: {fmt_number(value)} {unit}")
            for i, ((text, value), tip) in enumerate(zip(bars, tips, strict=True))]
    return svg_root(WIDTH, height, *rows, label=label)


def bar(index: int, text: str, value: float, x: LinearScale, tip: str) -> Markup:
    """One bar with its category label on the left, its value on the right and ``tip`` as its tooltip."""
    top = MARGIN["top"] + index * BAR_HEIGHT
    short = text if len(text) <= 28 else text[:27] + "…"
    middle = top + (BAR_HEIGHT - 6) / 2
    return el(
        "g",
        el("title", tip),
        el("text", short, x=x.px_lo - 8, y=middle, class_="tick", text_anchor="end", dominant_baseline="middle"),
        void("rect", x=x.px_lo, y=top, width=max(x(value) - x.px_lo, 1), height=BAR_HEIGHT - 6, class_="bar"),
        el("text", fmt_number(value), x=x(value) + 6, y=middle, class_="value", dominant_baseline="middle"),
    )


SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 120, 28, 3


def sparkline(values: list[float | None], label: str) -> Markup:
    """A small trend line between the lowest and highest value, gaps where a value is missing.

    The last published value is marked with a dot so the reader sees where the line ends.
    """
    published = [v for v in values if v is not None]
    x = LinearScale(0, max(len(values) - 1, 1), SPARK_PAD, SPARK_WIDTH - SPARK_PAD)
    y = LinearScale(min(published, default=0), max(published, default=1), SPARK_HEIGHT - SPARK_PAD, SPARK_PAD)
    points = list(enumerate(values))
    last = next(((i, v) for i, v in reversed(points) if v is not None), None)
    marks = [void("circle", cx=x(px), cy=y(py), r=1.6, class_="spark-dot") for px, py in isolated_points(points)]
    if last is not None:
        marks.append(void("circle", cx=x(last[0]), cy=y(last[1]), r=2.2, class_="spark-dot"))
    path = void("path", d=line_path(points, x, y), class_="spark")
    return svg_root(SPARK_WIDTH, SPARK_HEIGHT, path, *marks, label=label, class_="sparkline")


ALERT_WIDTH, ALERT_HEIGHT, ALERT_PAD = 220, 64, 6
WAY_COLOUR = {"up": "#d55e00", "down": "#0072b2"}


@dataclass(frozen=True)
class AlertPoint:
    """An alert in its series: published ``values`` by period, the alert's period ``at`` and what was expected.

    ``below`` is the bound under which an unpublished value lies (k for a people count); when the
    alert's value is censored (``value`` None) it is drawn as a mark on that line labelled ``<k``.
    """

    values: list[float | None]
    at: int
    expected: float | None
    value: float | None
    below: float | None
    direction: str


def alert_chart(point: AlertPoint, label: str) -> Markup:
    """A small chart of a series around an alert: its line, the expected value, the point highlighted."""
    known = [v for v in (*point.values, point.expected, point.value, point.below) if v is not None]
    x = LinearScale(0, max(len(point.values) - 1, 1), ALERT_PAD, ALERT_WIDTH - ALERT_PAD)
    y = LinearScale(0, max(known, default=1) * 1.1 or 1, ALERT_HEIGHT - ALERT_PAD, ALERT_PAD + 8)
    points = list(enumerate(point.values))
    marks = [void("path", d=line_path(points, x, y), class_="series", stroke="#5f6b7a", stroke_width=1.4)]
    marks += [void("circle", cx=x(px), cy=y(py), r=1.8, fill="#5f6b7a") for px, py in points if py is not None]
    if point.below is not None:
        marks.append(void("line", x1=x.px_lo, x2=x.px_hi, y1=y(point.below), y2=y(point.below), stroke="#9aa3ad",
                          stroke_dasharray="3 3", class_="below-k"))
    if point.expected is not None:
        marks.append(el("g", el("title", f"expected {fmt_number(point.expected)}"),
                        void("line", x1=x(point.at) - 7, x2=x(point.at) + 7, y1=y(point.expected),
                             y2=y(point.expected), stroke="#1f2933", stroke_width=2), class_="expected"))
    marks.append(alert_mark(point, x, y))
    return el("svg", el("title", label), *marks, viewBox=f"0 0 {ALERT_WIDTH} {ALERT_HEIGHT}", role="img",
              aria_label=label, class_="alert-chart", style=f"width:{ALERT_WIDTH}px;height:{ALERT_HEIGHT}px;margin:0")


def alert_mark(point: AlertPoint, x: LinearScale, y: LinearScale) -> Markup:
    """The alert's point: a filled dot at its value, or for a censored value a ring on the k line and ``<k``."""
    colour = WAY_COLOUR.get(point.direction, "#1f2933")
    if point.value is not None:
        return el("g", el("title", f"value {fmt_number(point.value)}"),
                  void("circle", cx=x(point.at), cy=y(point.value), r=4, fill=colour), class_="alert-point")
    bound = fmt_number(point.below) if point.below is not None else "k"
    level = y(point.below) if point.below is not None else y.px_lo
    anchor = "end" if x(point.at) > ALERT_WIDTH / 2 else "start"
    shift = -7 if anchor == "end" else 7
    return el("g", el("title", f"value below {bound} (not published)"),
              void("circle", cx=x(point.at), cy=level, r=4, fill="#fff", stroke=colour, stroke_width=2),
              el("text", f"<{bound}", x=x(point.at) + shift, y=level - 5, fill=colour, font_size=11,
                 text_anchor=anchor), class_="alert-point censored")
