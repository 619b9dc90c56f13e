"""tourism: visitors and nights per date, area, visitor type and origin.

A person's usual environment in a month is their home and workplace (see
``residents`` and ``workers``). A person with neither, seen on at most
``--max-visit-days`` days of the month, has no usual environment here (a
visitor from elsewhere). Domestic people are those whose events carry no
foreign MCC.

- ``domestic_overnight``: the night location of night d lies outside the
  person's usual environment; one visitor and one night there on d.
- ``domestic_sameday``: observed in an area outside the usual environment in at
  least ``--min-visit-bins`` bins of d, without that area being the night
  location of night d; nights 0.
- ``international``: a person with an MCC outside ``home_mcc``, observed in the
  area on d; nights 1 when the night location of night d is that area.

``origin``: a domestic visitor's home area rolled up to ``--origin-level``
(default: the coarsest level), or their registered ``origin_region`` when they
have no home here; an international visitor's country (ISO alpha-2) from the
MCC. Units: visitors (people), nights (person-nights).
"""

from __future__ import annotations

from popflow.indicators import Contribution, Indicator, register
from popflow.indicators.blocks import DAY, bin_locations, foreigners, home_ctes, with_query, work_ctes
from popflow.indicators.params import Tourism

ROOTS = "SELECT area_id FROM area_ancestors GROUP BY area_id HAVING count(*) = 1"


def _origin_level(p: Tourism) -> str:
    if p.origin_level:
        return f"a.level = '{p.origin_level}'"
    return f"a.ancestor_id IN ({ROOTS})"


def _people_ctes(p: Tourism) -> list[tuple[str, str]]:
    return [
        ("foreigners", foreigners()),
        ("usual", "SELECT person, period, area_id FROM home UNION SELECT person, period, area_id FROM work"),
        ("rooted", f"""SELECT c.period, e.person, count(DISTINCT c.day) AS days FROM events e
            JOIN calendar c ON c.day = e.t // {DAY} GROUP BY c.period, e.person"""),
        ("strangers", f"""SELECT r.period, r.person FROM rooted r
            LEFT JOIN usual u ON u.person = r.person AND u.period = r.period
            WHERE u.person IS NULL AND r.days <= {p.max_visit_days}"""),
        ("origins", f"""SELECT h.person, h.period, a.ancestor_id AS origin FROM home h
            JOIN area_ancestors a ON a.area_id = h.area_id AND {_origin_level(p)}"""),
    ]


def _visits_ctes(p: Tourism) -> list[tuple[str, str]]:
    outside = """JOIN calendar c ON c.day = v.day
        LEFT JOIN foreigners f ON f.person = v.person
        LEFT JOIN usual u ON u.person = v.person AND u.period = c.period AND u.area_id = v.area_id
        LEFT JOIN (SELECT DISTINCT person, period FROM usual) k ON k.person = v.person AND k.period = c.period
        LEFT JOIN strangers s ON s.person = v.person AND s.period = c.period
        WHERE f.person IS NULL AND u.person IS NULL AND (k.person IS NOT NULL OR s.person IS NOT NULL)"""
    return [
        ("observed", bin_locations(p.bin)),
        ("overnight", f"""SELECT v.person, v.day, v.area_id, c.period, 'domestic_overnight' AS visitor_type,
            1 AS nights FROM (SELECT person, slot AS day, area_id FROM night_locations) v {outside}"""),
        ("sameday", f"""SELECT v.person, v.day, v.area_id, c.period, 'domestic_sameday' AS visitor_type,
            0 AS nights FROM (
                SELECT o.person, o.slot // {DAY} AS day, o.area_id FROM observed o
                LEFT JOIN night_locations n
                       ON n.person = o.person AND n.slot = o.slot // {DAY} AND n.area_id = o.area_id
                WHERE n.person IS NULL
                GROUP BY o.person, o.slot // {DAY}, o.area_id HAVING count(*) >= {p.min_visit_bins}
            ) v {outside}"""),
        ("abroad", f"""SELECT v.person, v.day, v.area_id, f.country AS origin, 'international' AS visitor_type,
            CASE WHEN n.person IS NULL THEN 0 ELSE 1 END AS nights
            FROM (SELECT DISTINCT person, slot // {DAY} AS day, area_id FROM observed) v
            JOIN foreigners f ON f.person = v.person
            LEFT JOIN night_locations n ON n.person = v.person AND n.slot = v.day AND n.area_id = v.area_id"""),
    ]


def define(p: Tourism) -> list[Contribution]:
    ctes = home_ctes(p.min_nights) + work_ctes(p.min_days) + _people_ctes(p) + _visits_ctes(p) + [
        ("visits", """
            SELECT d.person, d.day, d.area_id, d.visitor_type, coalesce(o.origin, s.origin_region, 'unknown')
                   AS origin, d.nights
            FROM (SELECT * FROM overnight UNION ALL SELECT * FROM sameday) d
            LEFT JOIN origins o ON o.person = d.person AND o.period = d.period
            LEFT JOIN subscribers s ON s.person = d.person
            UNION ALL SELECT person, day, area_id, visitor_type, origin, nights FROM abroad"""),
    ]
    select = """
    SELECT v.person, c.date, m.target_id AS area_id, v.visitor_type, v.origin, max(v.nights) AS nights
    FROM visits v JOIN calendar c ON c.day = v.day JOIN area_map m ON m.area_id = v.area_id
    GROUP BY v.person, c.date, m.target_id, v.visitor_type, v.origin
    """
    return [Contribution("tourism", with_query(ctes, select), ("date", "area_id", "visitor_type", "origin"),
                         people="visitors", sums=("nights",), estimated=True, areas=("area_id",),
                         public=(("date", "dates"), ("area_id", "areas")))]


INDICATOR = register(Indicator(
    name="tourism",
    summary="visitors and nights per date × area × visitor type × origin (outside the usual environment)",
    params=Tourism,
    define=define,
    description=__doc__,
))
