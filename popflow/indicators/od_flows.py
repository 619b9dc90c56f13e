"""od-flows: trips and travellers per day, origin and destination.

``--method stays`` (the default): a trip is a move between two consecutive
stays of a person in different areas (see ``popflow.indicators.stays``),
dated by its arrival: the local date on which the later stay starts.

``--method observed``: a trip is a change of area between consecutive
observed bin locations of one person on one local day (carried bins are not
used).

Either way locations are rolled up to ``--level`` first, so moves inside one
area of that level are not trips. Units: trips, travellers (people making at
least one such trip).

Estimates (with a census): each trip found from stays counts its traveller's
weight (see ``estimates``) times their detection factor
(``trip_detection``: 1 ÷ the rate at which trips of people whose phones are
as sparse are found), in ``trips_estimate`` and the travellers' ``estimate``;
the 90 % interval adds the detection model's error. ``--method observed``
counts each trip found once.
"""

from __future__ import annotations

from popflow.errors import PopflowError
from popflow.indicators import Contribution, Indicator, register
from popflow.indicators.blocks import DAY, bin_locations, with_query
from popflow.indicators.params import Binned
from popflow.indicators.stays import stays_ctes
from popflow.indicators.trip_detection import DETECTION_ERROR, FACTOR, detection_ctes


def sequence_ctes(p: Binned) -> list[tuple[str, str]]:
    """CTEs ending in ``sequence(person, day, area_id, previous)``: each location at ``--level`` with the one
    before it (null when a trip cannot end there), ``day`` the local day a trip ending there is dated by."""
    if p.method == "stays":
        # In time order by start: two stays of one area may begin at one event (a pass-through between them
        # dropped), but stays never overlap and each lasts at least MIN_STAY, so no two start together.
        return [*stays_ctes(p.max_gap), ("sequence", f"""
            SELECT s.person, s.start_t // {DAY} AS day, m.target_id AS area_id,
                   lag(m.target_id) OVER (PARTITION BY s.person ORDER BY s.start_t) AS previous
            FROM stays s JOIN area_map m ON m.area_id = s.area_id""")]
    return [("observed", bin_locations(p.bin)), ("sequence", f"""
            SELECT o.person, o.slot // {DAY} AS day, m.target_id AS area_id,
                   lag(m.target_id) OVER (PARTITION BY o.person, o.slot // {DAY} ORDER BY o.slot) AS previous
            FROM observed o JOIN area_map m ON m.area_id = o.area_id""")]


def define(p: Binned) -> list[Contribution]:
    if p.by:
        raise PopflowError("od-flows has no breakdowns (--by)")
    found = """
    SELECT s.person, c.date, s.previous AS origin, s.area_id AS destination, count(*) AS trips
    FROM sequence s JOIN calendar c ON c.day = s.day
    WHERE s.previous IS NOT NULL AND s.previous <> s.area_id
    GROUP BY s.person, c.date, s.previous, s.area_id
    """
    ctes, select, factor, error = sequence_ctes(p), found, None, 0.0
    if p.method == "stays":
        ctes += [("trips_found", found), *detection_ctes("trips_found")]
        select = f"""
        SELECT t.*, coalesce(d.{FACTOR}, 1.0) AS {FACTOR}
        FROM trips_found t LEFT JOIN trip_detection d ON d.person = t.person"""
        factor, error = FACTOR, DETECTION_ERROR
    return [Contribution("od-flows", with_query(ctes, select), ("date", "origin", "destination"),
                         people="travellers", sums=("trips",),
                         columns=("date", "origin", "destination", "trips", "travellers"), estimated=True,
                         weight_factor=factor, estimate_error=error, areas=("origin", "destination"),
                         flow=("origin", "destination"), public=(("date", "dates"),))]


INDICATOR = register(Indicator(
    name="od-flows",
    summary="trips and travellers per day × origin × destination (moves between stays; --method observed: "
            "changes of observed bin location)",
    params=Binned,
    define=define,
    description=__doc__,
))
