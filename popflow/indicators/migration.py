"""migration: people whose home moved between consecutive months, and arrivals.

``migration``: people with a known home in both of two consecutive months
whose home area (at ``--level``) differs, by from-area and to-area.
``arrivals``: people with a known home in the later month only, by the area
of arrival and their registered ``origin_region``. Unit: people.
"""

from __future__ import annotations

from popflow.indicators import Contribution, Indicator, register
from popflow.indicators.blocks import breakdown_columns, breakdown_join, home_ctes, with_query
from popflow.indicators.params import Homes


def define(p: Homes) -> list[Contribution]:
    ctes = home_ctes(p.min_nights) + [(
        "homes_at_level",
        "SELECT h.person, h.period, m.target_id AS area_id FROM home h JOIN area_map m ON m.area_id = h.area_id",
    )]
    moved = f"""
    SELECT a.person, a.period AS period_from, b.period AS period_to,
           a.area_id AS from_area, b.area_id AS to_area{breakdown_columns(p.by)}
    FROM homes_at_level a
    JOIN periods n ON n.period = a.period
    JOIN homes_at_level b ON b.person = a.person AND b.period = n.next_period{breakdown_join(p.by, 'a.person')}
    WHERE a.area_id <> b.area_id
    """
    arrival_by = ("origin_region", *[b for b in p.by if b != "origin_region"])
    arrived = f"""
    SELECT b.person, n.period AS period_from, b.period AS period_to,
           b.area_id AS to_area{breakdown_columns(arrival_by)}
    FROM homes_at_level b
    JOIN periods n ON n.next_period = b.period
    LEFT JOIN homes_at_level a ON a.person = b.person AND a.period = n.period
    {breakdown_join(arrival_by, 'b.person').strip()}
    WHERE a.person IS NULL
    """
    return [
        Contribution("migration", with_query(ctes, moved),
                     ("period_from", "period_to", "from_area", "to_area", *p.by), estimated=True,
                     labels=("period_from",), areas=("from_area", "to_area"), flow=("from_area", "to_area"),
                     public=(("period_to", "months"), ("to_area", "areas"))),
        Contribution("arrivals", with_query(ctes, arrived),
                     ("period_from", "period_to", "to_area", *arrival_by), estimated=True,
                     labels=("period_from",), areas=("to_area",),
                     public=(("period_to", "months"), ("to_area", "areas"))),
    ]


INDICATOR = register(Indicator(
    name="migration",
    summary="home moves between consecutive months by from/to area, plus arrivals by origin_region",
    params=Homes,
    define=define,
    description=__doc__,
))
