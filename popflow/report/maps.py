"""Maps drawn as inline SVG: a choropleth and a flow map, both in an equirectangular projection."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import shapely

from popflow.report.markup import Markup, el, fmt_number, join, void
from popflow.report.svg import NO_VALUE_FILL, class_breaks, class_colour, hatch_pattern, svg_root

WIDTH = 900
PAD = 12
MAX_HEIGHT = 640
LEGEND_HEIGHT = 44
TOO_FEW = "too few to show"


@dataclass(frozen=True)
class AreaShape:
    """An area to draw: its id, display name and lon/lat geometry."""

    area_id: str
    name: str
    geometry: shapely.Geometry


@dataclass(frozen=True)
class Projection:
    """Equirectangular lon/lat → pixels, with longitude shrunk by cos(mean latitude)."""

    west: float
    north: float
    cos_lat: float
    scale: float
    height: float

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        x = PAD + (lon - self.west) * self.cos_lat * self.scale
        y = PAD + (self.north - lat) * self.scale
        return round(x, 1), round(y, 1)


def fit_projection(geometries: list[shapely.Geometry], width: float = WIDTH) -> Projection:
    """The projection that fits all geometries into ``width`` pixels (height follows the shape)."""
    west, south, east, north = shapely.total_bounds(geometries)
    cos_lat = math.cos(math.radians((south + north) / 2))
    span_x, span_y = max((east - west) * cos_lat, 1e-9), max(north - south, 1e-9)
    scale = min((width - 2 * PAD) / span_x, MAX_HEIGHT / span_y)  # tall regions stay within MAX_HEIGHT
    return Projection(west, north, cos_lat, scale, height=span_y * scale + 2 * PAD)


def rings(geometry: shapely.Geometry) -> list[list[tuple[float, float]]]:
    """Every exterior and interior ring of a (multi)polygon, as lon/lat lists."""
    parts = getattr(geometry, "geoms", [geometry])
    found = []
    for part in parts:
        if isinstance(part, shapely.Polygon):
            found += [list(part.exterior.coords), *(list(r.coords) for r in part.interiors)]
    return found


def area_path_data(geometry: shapely.Geometry, project: Projection) -> str:
    """SVG path data of a (multi)polygon; holes stay holes with the even-odd fill rule."""
    commands = []
    for ring in rings(geometry):
        points = [project(lon, lat) for lon, lat in ring]
        commands.append("M" + " L".join(f"{x},{y}" for x, y in points) + " Z")
    return " ".join(commands)


Format = Callable[[float], str]


def choropleth(shapes: list[AreaShape], values: dict[str, float], label: str, unit: str = "people",
               fmt: Format = fmt_number) -> Markup:
    """One filled path per area coloured by its class; areas without a value are hatched grey.

    ``fmt`` writes a value for the tooltips and the legend (e.g. as a percentage).
    """
    project = fit_projection([s.geometry for s in shapes])
    breaks = class_breaks([values[s.area_id] for s in shapes if s.area_id in values])
    paths = [choropleth_area(s, values.get(s.area_id), breaks, project, unit, fmt) for s in shapes]
    legend_top = project.height + 8
    return svg_root(WIDTH, legend_top + LEGEND_HEIGHT, hatch_pattern(), el("g", *paths, class_="areas"),
                    area_labels(shapes, project),
                    class_legend(breaks, min(values.values(), default=0), legend_top, fmt), label=label,
                    class_="map")


def area_labels(shapes: list[AreaShape], project: Projection, lift: float = 0) -> Markup:
    """Each area's name at a point inside it, ``lift`` pixels higher (hovering still reaches the area)."""
    points = [(s.name, project(*representative_lon_lat(s.geometry))) for s in shapes]
    return el("g", *(el("text", name, x=x, y=round(y - lift, 1), class_="area-label") for name, (x, y) in points),
              class_="area-labels")


def choropleth_area(shape: AreaShape, value: float | None, breaks: list[float], project: Projection,
                    unit: str, fmt: Format = fmt_number) -> Markup:
    """One area of the choropleth, with a tooltip giving its name and value."""
    fill = NO_VALUE_FILL if value is None else class_colour(value, breaks)
    tip = f"{shape.name}: {TOO_FEW}" if value is None else f"{shape.name}: {fmt(value)} {unit}".rstrip()
    return el("path", el("title", tip), d=area_path_data(shape.geometry, project), fill=fill,
              class_="area", data_area=shape.area_id)


def class_legend(breaks: list[float], lowest: float, top: float, fmt: Format = fmt_number) -> Markup:
    """Legend swatches, one per value class, then the hatched 'too few to show' swatch."""
    entries, lower = [], lowest
    for upper in breaks:
        text = fmt(upper) if lower == upper else f"{fmt(lower)} – {fmt(upper)}"
        entries.append((class_colour(upper, breaks), text))
        lower = upper
    entries.append((NO_VALUE_FILL, TOO_FEW))
    return el("g", *(legend_entry(i, fill, text, top) for i, (fill, text) in enumerate(entries)), class_="map-legend")


def legend_entry(index: int, fill: str, text: str, top: float) -> Markup:
    """One legend swatch with its text, laid out in a row."""
    left = PAD + index * 148
    return el("g", void("rect", x=left, y=top + 8, width=18, height=14, fill=fill, class_="swatch"),
              el("text", text, x=left + 24, y=top + 15, dominant_baseline="middle", class_="tick"))


def flow_map(shapes: list[AreaShape], flows: list[tuple[str, str, float]], label: str) -> Markup:
    """Area outlines and one straight line per (origin, destination, volume), width by volume.

    Lines are shifted a little to the right of their direction so that A→B and B→A both show.
    """
    project = fit_projection([s.geometry for s in shapes])
    points = {s.area_id: project(*representative_lon_lat(s.geometry)) for s in shapes}
    names = {s.area_id: s.name for s in shapes}
    outlines = [el("path", el("title", s.name), d=area_path_data(s.geometry, project), class_="outline")
                for s in shapes]
    drawable = [f for f in flows if f[0] in points and f[1] in points]
    biggest = max((f[2] for f in drawable), default=1)
    lines = [flow_line(points[o], points[d], f"{names[o]} → {names[d]}: {fmt_number(v)}", v / biggest)
             for o, d, v in sorted(drawable, key=lambda f: -f[2])]
    dots = [void("circle", cx=x, cy=y, r=2.5, class_="centre") for x, y in points.values()]
    return svg_root(WIDTH, project.height, el("g", *outlines), area_labels(shapes, project, lift=9), el("g", *lines),
                    join(dots), label=label, class_="map")


def representative_lon_lat(geometry: shapely.Geometry) -> tuple[float, float]:
    """A point guaranteed to lie inside the area (not the centroid, which may fall outside)."""
    point = shapely.point_on_surface(geometry)
    return point.x, point.y


def flow_line(start: tuple[float, float], end: tuple[float, float], tip: str, share: float) -> Markup:
    """A straight line whose width grows with ``share`` of the largest flow."""
    width = 1.5 + 8.5 * share
    dx, dy = end[0] - start[0], end[1] - start[1]
    length = math.hypot(dx, dy) or 1
    shift_x, shift_y = -dy / length * (width / 2 + 1), dx / length * (width / 2 + 1)
    return el("line", el("title", tip), x1=round(start[0] + shift_x, 1), y1=round(start[1] + shift_y, 1),
              x2=round(end[0] + shift_x, 1), y2=round(end[1] + shift_y, 1), stroke_width=round(width, 1),
              class_="flow")
