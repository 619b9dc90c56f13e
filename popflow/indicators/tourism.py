"""tourism: visitors and nights per date, area, visitor type and origin.

Where a person is comes from their stays (``--method stays``, the default;
see ``popflow.indicators.stays``):

- the **night place** of night d (22:00 on d to 06:00 on d+1) is the area whose
  stays cover the most of that night (ties to the smaller area_id); a night no
  stay reaches has none;
- the **bins spent** in an area on day d are the bins of d whose middle second
  falls in a stay there (``--bin``).

A person's **usual environment** in a month is their home and workplace (see
``residents`` and ``workers``) and every area that is their night place on at
least ``--min-nights`` nights of the month: a place slept in that often is part
of their routine, not a trip (this also keeps the neighbour of a home near a
border, where a phone may be served across it at night, out of the visits).
A person with no usual environment, seen on at most ``--max-visit-days`` days
of the month, is a visitor from elsewhere; a person with neither takes no part.
Domestic people are those whose events carry no foreign MCC.

- ``domestic_overnight``: the night place of night d lies outside the person's
  usual environment; one visitor and one night there on d.
- ``domestic_sameday``: at least ``--min-visit-bins`` bins of d spent in an
  area outside the usual environment that is not the night place of night d;
  nights 0.
- ``international``: a person with an MCC outside ``home_mcc``, with at least
  one bin of d spent in the area; nights 1 when the night place of night d is
  that area.

``--method observed`` reads the same from observed events instead: the night
place is the night location (the area of most events in the night, see
``residents``), the bins spent are the bin locations (the area of most events
in the bin), and the usual environment is the home and workplace only.

Estimates (with a census): each visitor weighs their population weight (see
``estimates``) times, for a domestic visit read from stays, its detection
factor (``visit_detection``): a visit seen in events of its own stands for
1 ÷ the visitor's detection rate visits, one not seen is left to those seen
(factor 0); the count of visitors is unchanged. A row rolled up from several
visits (``--level``) takes the factor of the most detectable seen one.
International visits and ``--method observed`` count each visit found once.

``origin``: a domestic visitor's home area rolled up to ``--origin-level``
(default: the coarsest level), or their registered ``origin_region`` when they
have no home here; an international visitor's country (ISO alpha-2) from the
MCC. Units: visitors (people), nights (person-nights).
"""

from __future__ import annotations

from popflow.indicators import Contribution, Indicator, register
from popflow.indicators.blocks import (
    DAY,
    NIGHT_LENGTH,
    NIGHT_START,
    bin_locations,
    foreigners,
    home_ctes,
    with_query,
    work_ctes,
)
from popflow.indicators.params import Tourism
from popflow.indicators.stays import stay_bins, stays_ctes
from popflow.indicators.visit_detection import FACTOR, detection_ctes

ROOTS = "SELECT area_id FROM area_ancestors GROUP BY area_id HAVING count(*) = 1"


def _origin_level(p: Tourism) -> str:
    if p.origin_level:
        return f"a.level = '{p.origin_level}'"
    return f"a.ancestor_id IN ({ROOTS})"


def _usual_sql(p: Tourism) -> str:
    """``person, period, area_id``: the areas of each person's usual environment in each month."""
    usual = "SELECT person, period, area_id FROM home UNION SELECT person, period, area_id FROM work"
    if p.method == "observed":
        return usual
    return f"""{usual} UNION SELECT n.person, c.period, n.area_id FROM night_places n JOIN calendar c ON c.day = n.day
        GROUP BY n.person, c.period, n.area_id HAVING count(*) >= {p.min_nights}"""


def _people_ctes(p: Tourism) -> list[tuple[str, str]]:
    return [
        ("foreigners", foreigners()),
        ("usual", _usual_sql(p)),
        ("rooted", f"""SELECT c.period, e.person, count(DISTINCT c.day) AS days FROM events e
            JOIN calendar c ON c.day = e.t // {DAY} GROUP BY c.period, e.person"""),
        ("strangers", f"""SELECT r.period, r.person FROM rooted r
            LEFT JOIN usual u ON u.person = r.person AND u.period = r.period
            WHERE u.person IS NULL AND r.days <= {p.max_visit_days}"""),
        ("origins", f"""SELECT h.person, h.period, a.ancestor_id AS origin FROM home h
            JOIN area_ancestors a ON a.area_id = h.area_id AND {_origin_level(p)}"""),
    ]


def _places_ctes(p: Tourism) -> list[tuple[str, str]]:
    """CTEs ending in ``night_places(person, day, area_id)``, where each person spends the night starting on
    day d, and ``day_places(person, day, area_id, bins)``, the bins of day d they spend in each area."""
    if p.method == "observed":
        return [("observed", bin_locations(p.bin)),
                ("night_places", "SELECT person, slot AS day, area_id FROM night_locations"),
                ("day_places", f"""SELECT person, slot // {DAY} AS day, area_id, count(*) AS bins FROM observed
                    GROUP BY person, slot // {DAY}, area_id""")]
    night = f"(night * {DAY} + {NIGHT_START})"
    return [*stays_ctes(p.max_gap),
            ("stay_nights", f"""
                SELECT person, night, area_id,
                       sum(least(end_t, {night} + {NIGHT_LENGTH}) - greatest(start_t, {night})) AS covered
                FROM (SELECT person, area_id, start_t, end_t, unnest(generate_series(first_night, last_night)) AS night
                      FROM (SELECT person, area_id, start_t, end_t,
                                   (start_t - {NIGHT_START + NIGHT_LENGTH}) // {DAY} + 1 AS first_night,
                                   (end_t - 1 - {NIGHT_START}) // {DAY} AS last_night FROM stays)
                      WHERE first_night <= last_night)
                GROUP BY person, night, area_id"""),
            ("night_places", """SELECT person, night AS day, area_id FROM stay_nights
                QUALIFY row_number() OVER (PARTITION BY person, night ORDER BY covered DESC, area_id) = 1"""),
            ("stay_day_bins", stay_bins("stays", p.bin)),
            ("day_places", f"""SELECT person, slot // {DAY} AS day, area_id, count(*) AS bins FROM stay_day_bins
                GROUP BY person, slot // {DAY}, area_id""")]


def _visits_ctes(p: Tourism) -> list[tuple[str, str]]:
    outside = """JOIN calendar c ON c.day = v.day
        LEFT JOIN foreigners f ON f.person = v.person
        LEFT JOIN usual u ON u.person = v.person AND u.period = c.period AND u.area_id = v.area_id
        LEFT JOIN (SELECT DISTINCT person, period FROM usual) k ON k.person = v.person AND k.period = c.period
        LEFT JOIN strangers s ON s.person = v.person AND s.period = c.period
        WHERE f.person IS NULL AND u.person IS NULL AND (k.person IS NOT NULL OR s.person IS NOT NULL)"""
    return [
        ("overnight", f"""SELECT v.person, v.day, v.area_id, c.period, 'domestic_overnight' AS visitor_type,
            1 AS nights FROM night_places v {outside}"""),
        ("sameday", f"""SELECT v.person, v.day, v.area_id, c.period, 'domestic_sameday' AS visitor_type,
            0 AS nights FROM (
                SELECT d.person, d.day, d.area_id FROM day_places d
                LEFT JOIN night_places n ON n.person = d.person AND n.day = d.day AND n.area_id = d.area_id
                WHERE n.person IS NULL AND d.bins >= {p.min_visit_bins}
            ) v {outside}"""),
        ("abroad", """SELECT v.person, v.day, v.area_id, f.country AS origin, 'international' AS visitor_type,
            CASE WHEN n.person IS NULL THEN 0 ELSE 1 END AS nights
            FROM day_places v
            JOIN foreigners f ON f.person = v.person
            LEFT JOIN night_places n ON n.person = v.person AND n.day = v.day AND n.area_id = v.area_id"""),
    ]


def _detection(p: Tourism) -> tuple[list[tuple[str, str]], str, str]:
    """The detection CTEs, the join and the factor of a domestic visit ``d`` (stays only; observed events
    keep each visit found counting once in the estimate)."""
    if p.method == "observed":
        return [], "", "1.0"
    join = """LEFT JOIN visit_detection x ON x.person = d.person AND x.day = d.day AND x.area_id = d.area_id
            AND x.visitor_type = d.visitor_type"""
    return detection_ctes(p.bin, p.min_visit_bins), join, f"coalesce(x.{FACTOR}, 0.0)"


def define(p: Tourism) -> list[Contribution]:
    detection, join, factor = _detection(p)
    ctes = home_ctes(p.min_nights) + work_ctes(p.min_days) + _places_ctes(p) + _people_ctes(p) + _visits_ctes(p) + [
        *detection,
        ("visits", f"""
            SELECT d.person, d.day, d.area_id, d.visitor_type, coalesce(o.origin, s.origin_region, 'unknown')
                   AS origin, d.nights, {factor} AS {FACTOR}
            FROM (SELECT * FROM overnight UNION ALL SELECT * FROM sameday) d
            LEFT JOIN origins o ON o.person = d.person AND o.period = d.period
            LEFT JOIN subscribers s ON s.person = d.person {join}
            UNION ALL SELECT person, day, area_id, visitor_type, origin, nights, 1.0 AS {FACTOR} FROM abroad"""),
    ]
    # A row rolled up from several visits is seen when one of them is, as often as the most detectable one.
    select = f"""
    SELECT v.person, c.date, m.target_id AS area_id, v.visitor_type, v.origin, max(v.nights) AS nights,
           coalesce(min(CASE WHEN v.{FACTOR} > 0 THEN v.{FACTOR} END), 0.0) AS {FACTOR}
    FROM visits v JOIN calendar c ON c.day = v.day JOIN area_map m ON m.area_id = v.area_id
    GROUP BY v.person, c.date, m.target_id, v.visitor_type, v.origin
    """
    return [Contribution("tourism", with_query(ctes, select), ("date", "area_id", "visitor_type", "origin"),
                         people="visitors", sums=("nights",), estimated=True, weight_factor=FACTOR,
                         areas=("area_id",), public=(("date", "dates"), ("area_id", "areas")))]


INDICATOR = register(Indicator(
    name="tourism",
    summary="visitors and nights per date × area × visitor type × origin (outside the usual environment; from "
            "stays, --method observed: from observed events)",
    params=Tourism,
    define=define,
    description=__doc__,
))
