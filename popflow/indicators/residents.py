"""residents: people per home area and period.

A person's home for a month is their night location (22:00–06:00, most events)
on the most nights of the month; ties go to more night events there, then the
smaller area_id; fewer than ``--min-nights`` such nights leaves it unknown.
When a population table is ingested, ``estimate`` scales each published cell
by the area's census population over the people published for that area.
Unit: people (estimate: residents).
"""

from __future__ import annotations

from popflow.indicators import Contribution, Indicator, register
from popflow.indicators.blocks import breakdown_columns, breakdown_join, home_ctes, with_query
from popflow.indicators.params import Homes


def define(p: Homes) -> list[Contribution]:
    select = f"""
    SELECT h.person, h.period, m.target_id AS area_id{breakdown_columns(p.by)}
    FROM home h JOIN area_map m ON m.area_id = h.area_id{breakdown_join(p.by, 'h.person')}
    """
    return [Contribution("residents", with_query(home_ctes(p.min_nights), select), ("period", "area_id", *p.by),
                         areas=("area_id",), public=(("period", "months"), ("area_id", "areas")))]


def estimate_sql(published: str) -> str:
    """Published residents with ``estimate`` = people × population / published people of the area.

    Only published cells enter the denominator, so nothing suppressed can be
    recovered from the estimates.
    """
    area_people = "sum(r.people) OVER (PARTITION BY r.period, r.area_id)"
    return f"""
    SELECT r.*, CASE WHEN {area_people} > 0 THEN {tenths("r.people * t.population", area_people)} END AS estimate
    FROM {published} r LEFT JOIN target_population t ON t.area_id = r.area_id
    """


def tenths(numerator: str, denominator: str) -> str:
    """``numerator / denominator`` rounded half up to one decimal, for non-negative integers.

    Rounded in integer arithmetic, so every engine gives the same number (the
    ratio's floating-point rounding, as in ``round(x, 1)``, differs between
    engines on ties such as 22712.55).
    """
    n, d = f"({numerator})", f"({denominator})"
    return f"(10 * ({n} // {d}) + (20 * ({n} % {d}) + {d}) // (2 * {d})) / 10"


INDICATOR = register(Indicator(
    name="residents",
    summary="people per home area and month (night location on most nights, --min-nights)",
    params=Homes,
    define=define,
    description=__doc__,
    uses=("events", "population"),
    finish=lambda published, p: estimate_sql(published),
    finish_needs="target_population",
    measures=("people", "estimate"),
))
