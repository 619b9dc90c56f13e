"""od-flows: trips and travellers per day, origin and destination.

A trip is a change of area between consecutive observed bin locations of one
person on one local day (carried bins are not used). Locations are rolled up
to ``--level`` first, so moves inside one area of that level are not trips.
Units: trips, travellers (people making at least one such trip).
"""

from __future__ import annotations

from popflow.errors import PopflowError
from popflow.indicators import Contribution, Indicator, register
from popflow.indicators.blocks import DAY, bin_locations, with_query
from popflow.indicators.params import Binned


def define(p: Binned) -> list[Contribution]:
    if p.by:
        raise PopflowError("od-flows has no breakdowns (--by)")
    ctes = [
        ("observed", bin_locations(p.bin)),
        ("sequence", f"""
            SELECT o.person, o.slot // {DAY} AS day, m.target_id AS area_id,
                   lag(m.target_id) OVER (PARTITION BY o.person, o.slot // {DAY} ORDER BY o.slot) AS previous
            FROM observed o JOIN area_map m ON m.area_id = o.area_id"""),
    ]
    select = """
    SELECT s.person, c.date, s.previous AS origin, s.area_id AS destination, count(*) AS trips
    FROM sequence s JOIN calendar c ON c.day = s.day
    WHERE s.previous IS NOT NULL AND s.previous <> s.area_id
    GROUP BY s.person, c.date, s.previous, s.area_id
    """
    return [Contribution("od-flows", with_query(ctes, select), ("date", "origin", "destination"),
                         people="travellers", sums=("trips",),
                         columns=("date", "origin", "destination", "trips", "travellers"))]


INDICATOR = register(Indicator(
    name="od-flows",
    summary="trips and travellers per day × origin × destination (changes of observed bin location)",
    params=Binned,
    define=define,
    description=__doc__,
))
