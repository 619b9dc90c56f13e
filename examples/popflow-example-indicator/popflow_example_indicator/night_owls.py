"""night-owls: people active between 00:00 and 04:00, per area, local date and night band.

A person is a night owl of an area on a local date d, in the band ``00-02``
(00:00–02:00) or ``02-04`` (02:00–04:00) of d, when at least one of their
events in that band of d is in the area (rolled up to ``--level``). A person
may count in several areas and in both bands. ``late_events`` sums, over the
cell's people, their events in the band and area. Units: people (``owls``,
subscribers observed) and events (``late_events``).
"""

from __future__ import annotations

from popflow.indicators import Contribution, Indicator, register
from popflow.indicators.blocks import DAY, breakdown_columns, breakdown_join
from popflow.indicators.params import Window

BAND = 2 * 3600  # each night band lasts two hours
NIGHT_END = 2 * BAND  # the bands cover 00:00-04:00
BANDS = ("00-02", "02-04")  # every value of night_band: a public domain, so dp releases every cell


def define(p: Window) -> list[Contribution]:
    band = f"CASE WHEN e.t % {DAY} < {BAND} THEN '{BANDS[0]}' ELSE '{BANDS[1]}' END"
    by = "".join(f", s.{b}" for b in p.by)
    select = f"""
    SELECT e.person, c.date, m.target_id AS area_id, {band} AS night_band{breakdown_columns(p.by)},
           count(*) AS late_events
    FROM events e
    JOIN calendar c ON c.day = e.t // {DAY}
    JOIN area_map m ON m.area_id = e.area_id{breakdown_join(p.by, 'e.person')}
    WHERE e.t % {DAY} < {NIGHT_END}
    GROUP BY e.person, c.date, m.target_id, {band}{by}
    """
    return [Contribution("night-owls", select, ("date", "area_id", "night_band", *p.by), people="owls",
                         sums=("late_events",), areas=("area_id",), categories=(("night_band", BANDS),),
                         public=(("date", "dates"), ("area_id", "areas")))]


INDICATOR = register(Indicator(
    name="night-owls",
    summary="people active 00:00-04:00 per area, date and two-hour night band (an example plugin)",
    params=Window,
    define=define,
    description=__doc__,
))
