"""Population estimates: a weight per subscriber, so that counts of subscribers become estimates of people.

A count of popflow is of the operator's subscribers observed; an estimate is
of everyone. Each subscriber stands for ``weight`` people:

- **Home.** A person's home is their home (``home`` building block: the night
  location on most nights, at least ``--min-nights``) in the latest calendar
  month touched by the release window in which one is detected. Homes are
  read over the whole calendar months the window touches, so a one-day window
  gets the same weights as the month around it, and from night events at the
  person's places (a border place they alternate across at night counts on
  the side holding most of their night events, as in stays).
- **Calibration unit.** The finest area holding the home that has a census row
  (the ``population`` table): usually the home's district, else its city, ….
- **Weight of a resident** = census population of the unit ÷ subscribers whose
  home lies in it (rounded to the nearest ``ROUNDING``; a unit with fewer than
  k of them, or rounded to none, gets no weight of its own, so no exact count
  can be read back from an estimate): the inverse of the operator's share of the unit's residents.
- **Raked to gender × age band** when the census has classes (long form):
  see ``_raking_ctes``; the unit totals are kept.
- **Recalibrated per bin.** In a table where every person counts at most once
  per value of some keys (present-population: once per time bin), the weight
  of a resident in a bin is instead scaled so that the residents of the unit
  counted in that bin weigh the unit's census population: their weight ×
  census population ÷ the weights of the unit's residents in the bin (the
  static weight when fewer than k are counted). The residents placed in a bin then
  stand for all the unit's residents, those whose phones were silent too: a
  nonresponse adjustment within the unit, which assumes the silent are where
  the placed residents of their unit are. Measured in ``benchmarks/accuracy.py``
  (a silent phone otherwise counts nowhere, and estimates fall short by the
  share of silent phones).
- **Residents without a detected home** (no foreign MCC, seen on more than
  ``VISITOR_DAYS`` days of their latest month, yet too rarely at night for a
  home) weigh 0: the census counts them, so the detected residents already
  stand for them and counting them too would count them twice. They still
  count in ``people``, and an estimate is never below its cell's count.
- **Visitors and the rest** (a foreign MCC, or no home and seen on at most
  ``VISITOR_DAYS`` days of their latest month — the tourism indicator's
  visitors —, or a home in a unit without weight) weigh the region's mean
  weight: census population of the weighted units ÷ their rounded subscriber
  counts, the operator's share of the region's residents, for want of a census
  of where they come from.

The estimate of a cell is the sum of its people's weights, or its count of
people where that is more (for a summed measure such as trips, the sum of
weight × measure). A contribution may declare a factor per row multiplying
the weight (``weight_factor``: tourism's inverse detection probability, see
``visit_detection``); the weight below is then the multiplied one. Its 90 % interval adds
two errors: extrapolating from subscribers to everyone, treating the
subscribers as a Poisson sample of everyone, each person in it with
probability 1 ÷ weight (variance Σ weight × (weight − 1)); and placing them,
a standard deviation of ``PLACEMENT_ERROR`` (2.5 %) of the estimate, the spread
measured on the synthetic world of ``benchmarks/accuracy.py``: estimate ±
1.645 × √(Σ weight × (weight − 1) + (0.025 × estimate)²), and never below the
count itself. The placement term is a model assumption: on other data,
measure it again against a known truth. A contribution whose factor rests
on a model adds that model's error (``estimate_error``, a relative standard
deviation: od-flows' trip detection) to the placement error, as √(0.025² +
error²).
"""

from __future__ import annotations

import math

from popflow.indicators.blocks import at_night, foreigners, home_ctes, with_query
from popflow.indicators.params import Tourism
from popflow.indicators.stays import leaned_events_ctes

WEIGHT = "weight"  # in thousandths, a whole number, so that sums are exact and equal on every engine
SCALE = 1000
ROUNDING = 10  # subscriber counts of a calibration unit are rounded to this before dividing
VISITOR_DAYS = Tourism.max_visit_days  # days seen in a month up to which a person with no home is a visitor
Z_90 = 1.645  # the 90 % two-sided normal quantile
# Standard deviation of the error of placing people, relative to the estimate: measured on the synthetic world of
# ``benchmarks/accuracy.py`` (district-hours), where the 90 % intervals then hold the truth in 93–94 % of them
# (the sampling term alone is wide: calibrated weights vary less than a Poisson sample's).
PLACEMENT_ERROR = 0.025
RAKING_ROUNDS = 6  # rounds of raking to the census classes (see ``_raking_ctes``)
ESTIMATE = "estimate"
ESTIMATE_LOW, ESTIMATE_HIGH = f"{ESTIMATE}_low", f"{ESTIMATE}_high"  # the 90 % interval
VARIANCE = "estimate__variance"


def home_unit_sql(min_nights: int) -> str:
    """``person, unit``: every person with a detected home (in the latest month of the window's calendar months
    with one) and the census unit holding it, NULL when no area above the home has a census row.

    The night events are read at the person's places (``stays.leaned_events_ctes``
    over the night events alone: the area of a border place the person
    alternates across at night is the side holding most of their night
    events), so that homes agree with where stays put the nights; leaning
    learned from all the month's events measured 0.1–0.2 points better and
    cost 65 % more time per release. Reads ``month_events`` and ``month_calendar`` (the events and days of the
    calendar months the window touches), ``area_ancestors`` and ``census``.
    Materialised once per release as ``home_unit``, for ``person_weight_sql`` and
    ``default_weight_sql``.
    """
    depth = "(SELECT area_id, count(*) AS depth FROM area_ancestors GROUP BY area_id)"
    return with_query([
        ("month_nights", f"SELECT person, t, area_id FROM month_events WHERE {at_night('t')}"),
        *leaned_events_ctes("month_nights"),
        ("events", "SELECT * FROM leaned_events"),
        ("calendar", "SELECT * FROM month_calendar"),
        *home_ctes(min_nights),
        ("census_unit", f"""
            SELECT area_id, unit FROM (
                SELECT a.area_id, a.ancestor_id AS unit,
                       row_number() OVER (PARTITION BY a.area_id ORDER BY d.depth DESC) AS nearest
                FROM area_ancestors a JOIN census p ON p.area_id = a.ancestor_id
                JOIN {depth} d ON d.area_id = a.ancestor_id
            ) WHERE nearest = 1"""),
    ], """
    SELECT h.person, u.unit FROM (
        SELECT person, area_id, row_number() OVER (PARTITION BY person ORDER BY period DESC) AS latest FROM home
    ) h LEFT JOIN census_unit u ON u.area_id = h.area_id WHERE h.latest = 1
    """)


def person_weight_sql(k: int) -> str:
    """``person, unit, population, weight`` (thousandths) of every resident with a detected home in a
    calibrated unit, and ``person`` with weight 0 and no unit of every resident without a
    detected home; visitors and the rest have no row (they take the default weight).

    Reads ``home_unit`` (``home_unit_sql``), ``month_events``, ``month_calendar``,
    ``area_ancestors``, ``census``, ``census_classes``, ``subscribers``,
    ``mcc_countries`` and ``home_mccs``.
    """
    return with_query([*_unit_ctes(k), *_raking_ctes(k), ("visitors", foreigners("month_events")),
                       ("seen", f"""
        SELECT person, days FROM (
            SELECT e.person, c.period, count(DISTINCT c.day) AS days,
                   row_number() OVER (PARTITION BY e.person ORDER BY c.period DESC) AS latest
            FROM month_events e JOIN month_calendar c ON c.date = e.date GROUP BY e.person, c.period
        ) WHERE latest = 1 AND days > {VISITOR_DAYS}""")], f"""
    SELECT person, unit, unit_population AS population, CAST(floor({SCALE} * w + 0.5) AS BIGINT) AS weight
    FROM raked_{RAKING_ROUNDS}
    UNION ALL
    SELECT s.person, NULL AS unit, NULL AS population, 0 AS weight FROM seen s
    LEFT JOIN home_unit h ON h.person = s.person LEFT JOIN visitors v ON v.person = s.person
    WHERE h.person IS NULL AND v.person IS NULL
    """)


def default_weight_sql(k: int) -> str:
    """One row, ``weight``: the region's mean weight (census of weighted units ÷ their subscribers)."""
    return with_query(_unit_ctes(k), f"""
    SELECT {_thousandths('sum(population)', 'sum(subscribers)')} AS weight FROM unit_weight
    """)


def _unit_ctes(k: int) -> list[tuple[str, str]]:
    """CTEs ending in ``latest_home(person, unit)`` (homes in a census unit) and
    ``unit_weight(unit, population, subscribers, weight)``, over ``home_unit``."""
    return [
        ("latest_home", "SELECT person, unit FROM home_unit WHERE unit IS NOT NULL"),
        ("unit_weight", f"""
            SELECT c.unit, p.population, c.subscribers, {_thousandths('p.population', 'c.subscribers')} AS weight
            FROM (
                SELECT unit, {_rounded('count(*)')} AS subscribers
                FROM latest_home GROUP BY unit HAVING count(*) >= {k}
            ) c JOIN census p ON p.area_id = c.unit WHERE p.population > 0 AND c.subscribers > 0"""),
    ]


def _raking_ctes(k: int) -> list[tuple[str, str]]:
    """CTEs ending in ``raked_{RAKING_ROUNDS}(person, unit, unit_population, …, w)``: the residents' weights (in
    units) raked to the census of their unit and, when the census has classes, to the region's shares of each
    gender × age band.

    Raking (iterative proportional fitting) starts from the unit weights and
    repeats ``RAKING_ROUNDS`` times: (1) the residents of each class with at
    least k of them share the weight of all residents with a census class in
    the proportions of the classes' census populations (over the weighted
    units); (2) each unit's residents are scaled back to the unit's total weight
    before raking (its census population ÷ its rounded subscriber count × its
    subscribers), so no unit's exact count enters the weights. Residents whose
    gender or age band is unknown keep their weight in (1). Without census
    classes the unit weights are unchanged.
    """
    ctes = [
        ("class_census", """
            SELECT gender, age_band, sum(population) AS population FROM census_classes
            WHERE area_id IN (SELECT a.area_id FROM area_ancestors a JOIN unit_weight u ON u.unit = a.ancestor_id)
            GROUP BY gender, age_band"""),
        ("raked_0", f"""
            SELECT h.person, h.unit, w.population AS unit_population, CAST(w.weight AS DOUBLE) / {SCALE} AS w,
                   CAST(w.weight AS DOUBLE) / {SCALE} * count(*) OVER (PARTITION BY h.unit) AS unit_w,
                   c.population AS class_population, s.gender || ' ' || s.age_band AS class
            FROM latest_home h JOIN unit_weight w ON w.unit = h.unit
            LEFT JOIN subscribers s ON s.person = h.person
            LEFT JOIN class_census c ON c.gender = s.gender AND c.age_band = s.age_band"""),
    ]
    for r in range(1, RAKING_ROUNDS + 1):
        ctes += [
            (f"classed_{r}", f"""
                SELECT *, class_population IS NOT NULL AND count(*) OVER (PARTITION BY class) >= {k} AS fitted,
                       count(*) OVER (PARTITION BY class) AS class_people, sum(w) OVER (PARTITION BY class) AS class_w
                FROM raked_{r - 1}"""),
            (f"class_fitted_{r}", f"""
                SELECT person, unit, unit_population, unit_w, class_population, class,
                       CASE WHEN fitted THEN w * class_population / class_w * fitted_w / fitted_census ELSE w END AS w
                FROM (SELECT *, sum(CASE WHEN fitted THEN w END) OVER () AS fitted_w,
                             sum(CASE WHEN fitted THEN class_population / class_people END) OVER () AS fitted_census
                      FROM classed_{r})"""),
            (f"raked_{r}", f"""
                SELECT person, unit, unit_population, unit_w, class_population, class,
                       w * unit_w / sum(w) OVER (PARTITION BY unit) AS w
                FROM class_fitted_{r}"""),
        ]
    return ctes


def _rounded(count: str) -> str:
    """A count of subscribers rounded to the nearest ``ROUNDING``."""
    return f"{ROUNDING} * floor(({count} + {ROUNDING // 2}) / {ROUNDING})"


def _thousandths(numerator: str, denominator: str) -> str:
    return f"CAST(floor({SCALE}.0 * {numerator} / {denominator} + 0.5) AS BIGINT)"


def weighted_sql(contributions: str, per: tuple[str, ...], k: int, factor: str | None = None) -> str:
    """The contribution rows with each person's ``weight``: their own, else the default weight.

    With ``per`` keys (every person in at most one row per value of them), a
    resident's weight is recalibrated within each value: their weight × census
    population of their unit ÷ the weights of the unit's residents in rows of
    that value, unless fewer than ``k`` residents of the unit are in them.
    A ``factor`` column of the rows (see ``Contribution.weight_factor``)
    multiplies each row's weight, rounded to whole thousandths.
    """
    static = f"coalesce(w.{WEIGHT}, d.{WEIGHT})"
    if not per:
        return f"""
        SELECT c.*, {_factored(static, factor and f'c.{factor}')} AS {WEIGHT}
        FROM {contributions} c LEFT JOIN person_weight w ON w.person = c.person CROSS JOIN default_weight d
        """
    within = f"PARTITION BY {', '.join(f'c.{key}' for key in per)}, w.unit"
    recalibrated = f"""CASE WHEN r.unit__counted >= {k}
                     THEN {_thousandths('r.weight__static * r.unit__population', 'r.unit__weights')}
                     ELSE r.weight__static END"""
    return f"""
    SELECT r.*, {_factored(recalibrated, factor and f'r.{factor}')} AS {WEIGHT}
    FROM (
        SELECT c.*, w.population AS unit__population, {static} AS weight__static,
               count(w.unit) OVER ({within}) AS unit__counted, sum(w.{WEIGHT}) OVER ({within}) AS unit__weights
        FROM {contributions} c LEFT JOIN person_weight w ON w.person = c.person CROSS JOIN default_weight d
    ) r
    """


def _factored(weight: str, factor: str | None) -> str:
    """A weight in thousandths times a row's factor, rounded to whole thousandths (the weight alone without one)."""
    return f"CAST(floor({weight} * {factor} + 0.5) AS BIGINT)" if factor else weight


def estimate_sums(sums: tuple[str, ...]) -> str:
    """Select-list items summing weights per cell: the estimate, its variance and each measure's estimate."""
    measures = "".join(f", sum({WEIGHT} * {m}) AS {m}_{ESTIMATE}" for m in sums)
    return f", sum({WEIGHT}) AS {ESTIMATE}, sum({WEIGHT} * ({WEIGHT} - {SCALE})) AS {VARIANCE}{measures}"


def published_estimates(people: str, sums: tuple[str, ...], shown: dict[str, str], model_error: float = 0.0) -> str:
    """Select-list items of published estimates, in tenths, with the 90 % interval.

    ``shown`` maps a summed measure to the SQL condition under which its value
    is published; its estimate is published under the same condition. An
    estimate is never below the count it extrapolates. ``model_error``
    (``Contribution.estimate_error``) is a relative standard deviation added
    to the placement error's, independent of it.
    """
    estimate = _at_least(people, _units(ESTIMATE))
    relative = math.hypot(PLACEMENT_ERROR, model_error)
    margin = f"{Z_90} * sqrt({_units(VARIANCE)} / {SCALE} + pow({relative} * {estimate}, 2))"
    items = [f"{tenths(estimate)} AS {ESTIMATE}",
             f"{tenths(f'greatest({people}, {estimate} - {margin})')} AS {ESTIMATE_LOW}",
             f"{tenths(f'{estimate} + {margin}')} AS {ESTIMATE_HIGH}"]
    items += [f"CASE WHEN {shown[m]} THEN {tenths(_at_least(m, _units(f'{m}_{ESTIMATE}')))} END AS {m}_{ESTIMATE}"
              for m in sums]
    return "".join(f", {item}" for item in items)


def _at_least(count: str, estimate: str) -> str:
    """An estimate raised to the count it extrapolates where it falls below."""
    return f"greatest({count}, {estimate})"


def _units(thousandths: str) -> str:
    """A sum of thousandths as a DOUBLE of units (Spark would otherwise divide into a DECIMAL)."""
    return f"CAST({thousandths} AS DOUBLE) / {SCALE}"


def tenths(value: str) -> str:
    """SQL rounding a non-negative number to one decimal, half up, the same on every engine."""
    return f"CAST(floor(({value}) * 10 + 0.5) AS DOUBLE) / 10"
