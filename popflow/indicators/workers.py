"""workers: people per work area and home area and period.

A person's workplace for a month is their weekday daytime location (Monday to
Friday, 09:00–17:00, most events) on the most weekdays of the month, with the
same tie rules as home and at least ``--min-days`` such days. People with both
a known home and a known workplace are counted. Unit: people.
"""

from __future__ import annotations

from popflow.indicators import Contribution, Indicator, register
from popflow.indicators.blocks import home_ctes, with_query, work_ctes
from popflow.indicators.params import Homes


def define(p: Homes) -> list[Contribution]:
    select = """
    SELECT w.person, w.period, mw.target_id AS work_area_id, mh.target_id AS home_area_id
    FROM work w JOIN home h ON h.person = w.person AND h.period = w.period
    JOIN area_map mw ON mw.area_id = w.area_id
    JOIN area_map mh ON mh.area_id = h.area_id
    """
    ctes = home_ctes(p.min_nights) + work_ctes(p.min_days)
    return [Contribution("workers", with_query(ctes, select), ("period", "work_area_id", "home_area_id"),
                         estimated=True, areas=("work_area_id", "home_area_id"), flow=("home_area_id", "work_area_id"),
                         public=(("period", "months"), ("work_area_id", "areas"), ("home_area_id", "areas")))]


INDICATOR = register(Indicator(
    name="workers",
    summary="people per work area × home area and month (weekday 09–17 location, --min-days)",
    params=Homes,
    define=define,
    description=__doc__,
))
