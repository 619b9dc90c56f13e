"""present-population: people present per area and time bin.

``--method stays`` (the default): a person is present in a bin in the area of
the stay covering the bin's middle second (see ``popflow.indicators.stays``:
a stay lasts through silence up to ``--max-gap`` and meets the next one inside
the gap between their events). A bin whose middle falls in no stay (a silence
longer than ``--max-gap``, or before the person's first event) counts the
person nowhere.

``--method observed``: a person is present in the area of their bin location
(the area with the most of their events in the bin; ties to the latest event,
then the smaller area_id). With ``--carry H`` a silent bin takes the location
of the person's latest observed bin if it started at most H hours earlier.

Unit: people (subscribers observed).
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
from popflow.indicators.stays import stay_bins, stays_ctes


def presence_ctes(p: Binned) -> list[tuple[str, str]]:
    """CTEs ending in ``presence(person, slot, area_id)``: each person's area at ``--level`` in each bin they
    count in."""
    if p.method == "stays":
        return [*stays_ctes(p.max_gap), ("stays_at_level", """
                SELECT s.person, m.target_id AS area_id, s.start_t, s.end_t
                FROM stays s JOIN area_map m ON m.area_id = s.area_id"""),
                ("presence", stay_bins("stays_at_level", p.bin))]
    ctes = [("observed", bin_locations(p.bin))]
    located = "observed"
    if p.carry:
        ctes += [("carried", carried_bins("observed", p.bin, p.carry)),
                 ("located", "SELECT person, slot, area_id FROM observed "
                             "UNION ALL SELECT person, slot, area_id FROM carried")]
        located = "located"
    return [*ctes, ("presence", f"""
            SELECT l.person, l.slot, m.target_id AS area_id
            FROM {located} l JOIN area_map m ON m.area_id = l.area_id""")]


def define(p: Binned) -> list[Contribution]:
    select = f"""
    SELECT l.person, l.slot AS time, l.area_id{breakdown_columns(p.by)}
    FROM presence l
    JOIN calendar c ON c.day = l.slot // {DAY}{breakdown_join(p.by, 'l.person')}
    """
    return [Contribution("present-population", with_query(presence_ctes(p), select), ("time", "area_id", *p.by),
                         estimated=True, calibrated_per=("time",), areas=("area_id",),
                         public=(("time", "bins"), ("area_id", "areas")))]


INDICATOR = register(Indicator(
    name="present-population",
    summary="people present per area and time bin (from stays; --method observed: bin location and --carry)",
    params=Binned,
    define=define,
    description=__doc__,
))
