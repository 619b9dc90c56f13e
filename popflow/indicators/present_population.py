"""present-population: people present per area and time bin.

A person is present in the area of their bin location (the area with the
most of their events in the bin; ties to the latest event, then the smaller
area_id). With ``--carry H`` a silent bin takes the location of the person's
latest observed bin if it started at most H hours earlier. Unit: people.
"""

from __future__ import annotations

from popflow.indicators import Contribution, Indicator, register
from popflow.indicators.blocks import (
    DAY,
    bin_locations,
    breakdown_columns,
    breakdown_join,
    carried_bins,
    with_query,
)
from popflow.indicators.params import Binned


def define(p: Binned) -> list[Contribution]:
    ctes = [("observed", bin_locations(p.bin))]
    presence = "observed"
    if p.carry:
        ctes.append(("carried", carried_bins("observed", p.bin, p.carry)))
        ctes.append(("presence", "SELECT person, slot, area_id FROM observed "
                                 "UNION ALL SELECT person, slot, area_id FROM carried"))
        presence = "presence"
    select = f"""
    SELECT l.person, l.slot AS time, m.target_id AS area_id{breakdown_columns(p.by)}
    FROM {presence} l
    JOIN area_map m ON m.area_id = l.area_id
    JOIN calendar c ON c.day = l.slot // {DAY}{breakdown_join(p.by, 'l.person')}
    """
    return [Contribution("present-population", with_query(ctes, select), ("time", "area_id", *p.by))]


INDICATOR = register(Indicator(
    name="present-population",
    summary="people present per area and time bin (bin location; --carry fills silent bins)",
    params=Binned,
    define=define,
    description=__doc__,
))
