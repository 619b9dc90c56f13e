"""Population estimates: a weight per subscriber, so that counts of subscribers become estimates of people.

A count of popflow is of the operator's subscribers observed; an estimate is
of everyone. Each subscriber stands for ``weight`` people:

- **Home.** A person's home is their home (``home`` building block: the night
  location on most nights, at least ``--min-nights``) in the latest calendar
  month touched by the release window in which one is detected. Homes are
  read over the whole calendar months the window touches, so a one-day window
  gets the same weights as the month around it.
- **Calibration unit.** The finest area holding the home that has a census row
  (the ``population`` table): usually the home's district, else its city, ….
- **Weight of a resident** = census population of the unit ÷ subscribers whose
  home lies in it: the inverse of the operator's share of the unit's residents
  among those seen on enough nights. Subscribers seen too rarely to have a
  home are left out of this count on purpose: the residents detected stand for
  them too, which makes up for much of the presence lost to silent phones
  (measured in ``benchmarks/accuracy.py``: calibrating on every subscriber seen
  instead gives a larger error).
  The subscriber count is rounded to the nearest ``ROUNDING`` and a unit with
  fewer than k such subscribers gets no weight of its own, so no exact count
  can be read back from an estimate.
- **Weight of everyone else** (no detected home: visitors from outside the
  region, international roamers, people seen on too few nights, or homes in a
  unit without weight) = the region's mean weight: census population of the
  weighted units ÷ their rounded subscriber counts.

The estimate of a cell is the sum of its people's weights (for a summed
measure such as trips, the sum of weight × measure). Its 90 % interval treats
the subscribers as a Poisson sample of everyone, each person in it with
probability 1 ÷ weight: estimate ± 1.645 × √Σ weight × (weight − 1), and never
below the count itself. It covers the error of extrapolating from subscribers
to everyone, not errors in placing the subscribers.
"""

from __future__ import annotations

from popflow.indicators.blocks import home_ctes, with_query

WEIGHT = "weight"  # in thousandths, a whole number, so that sums are exact and equal on every engine
SCALE = 1000
ROUNDING = 10  # subscriber counts of a calibration unit are rounded to this before dividing
Z_90 = 1.645  # the 90 % two-sided normal quantile
ESTIMATE = "estimate"
VARIANCE = "estimate__variance"


def person_weight_sql(min_nights: int, k: int) -> str:
    """``person, weight`` (thousandths) of every subscriber with a detected home in a calibrated unit.

    Reads ``month_events`` and ``month_calendar`` (the events and days of the
    calendar months the window touches), ``area_ancestors`` and ``lake_population``.
    """
    return with_query(_unit_ctes(min_nights, k), """
    SELECT h.person, w.weight FROM latest_home h JOIN unit_weight w ON w.unit = h.unit
    """)


def default_weight_sql(min_nights: int, k: int) -> str:
    """One row, ``weight``: the region's mean weight (census of weighted units ÷ their subscribers)."""
    return with_query(_unit_ctes(min_nights, k), f"""
    SELECT {_thousandths('sum(population)', 'sum(subscribers)')} AS weight FROM unit_weight
    """)


def _unit_ctes(min_nights: int, k: int) -> list[tuple[str, str]]:
    """CTEs ending in ``latest_home(person, unit)`` and ``unit_weight(unit, population, subscribers, weight)``."""
    depth = "(SELECT area_id, count(*) AS depth FROM area_ancestors GROUP BY area_id)"
    return [
        ("events", "SELECT * FROM month_events"),
        ("calendar", "SELECT * FROM month_calendar"),
        *home_ctes(min_nights),
        ("census_unit", f"""
            SELECT area_id, unit FROM (
                SELECT a.area_id, a.ancestor_id AS unit,
                       row_number() OVER (PARTITION BY a.area_id ORDER BY d.depth DESC) AS nearest
                FROM area_ancestors a JOIN lake_population p ON p.area_id = a.ancestor_id
                JOIN {depth} d ON d.area_id = a.ancestor_id
            ) WHERE nearest = 1"""),
        ("latest_home", """
            SELECT h.person, u.unit FROM (
                SELECT person, area_id, row_number() OVER (PARTITION BY person ORDER BY period DESC) AS latest
                FROM home
            ) h JOIN census_unit u ON u.area_id = h.area_id WHERE h.latest = 1"""),
        ("unit_weight", f"""
            SELECT c.unit, p.population, c.subscribers, {_thousandths('p.population', 'c.subscribers')} AS weight
            FROM (
                SELECT unit, {ROUNDING} * floor((count(*) + {ROUNDING // 2}) / {ROUNDING}) AS subscribers
                FROM latest_home GROUP BY unit HAVING count(*) >= {k}
            ) c JOIN lake_population p ON p.area_id = c.unit WHERE p.population > 0"""),
    ]


def _thousandths(numerator: str, denominator: str) -> str:
    return f"CAST(floor({SCALE}.0 * {numerator} / {denominator} + 0.5) AS BIGINT)"


def weighted_sql(contributions: str) -> str:
    """The contribution rows with each person's ``weight`` (the default weight when none of their own)."""
    return f"""
    SELECT c.*, coalesce(w.{WEIGHT}, d.{WEIGHT}) AS {WEIGHT}
    FROM {contributions} c LEFT JOIN person_weight w ON w.person = c.person CROSS JOIN default_weight d
    """


def estimate_sums(sums: tuple[str, ...]) -> str:
    """Select-list items summing weights per cell: the estimate, its variance and each measure's estimate."""
    measures = "".join(f", sum({WEIGHT} * {m}) AS {m}_{ESTIMATE}" for m in sums)
    return f", sum({WEIGHT}) AS {ESTIMATE}, sum({WEIGHT} * ({WEIGHT} - {SCALE})) AS {VARIANCE}{measures}"


def published_estimates(people: str, sums: tuple[str, ...], shown: dict[str, str]) -> str:
    """Select-list items of published estimates, in tenths, with the 90 % interval.

    ``shown`` maps a summed measure to the SQL condition under which its value
    is published; its estimate is published under the same condition.
    """
    estimate, margin = _units(ESTIMATE), f"{Z_90} * sqrt({VARIANCE}) / {SCALE}"
    items = [f"{tenths(estimate)} AS {ESTIMATE}",
             f"{tenths(f'greatest({people}, {estimate} - {margin})')} AS {ESTIMATE}_low",
             f"{tenths(f'{estimate} + {margin}')} AS {ESTIMATE}_high"]
    items += [f"CASE WHEN {shown[m]} THEN {tenths(_units(f'{m}_{ESTIMATE}'))} END AS {m}_{ESTIMATE}"
              for m in sums]
    return "".join(f", {item}" for item in items)


def _units(thousandths: str) -> str:
    """A sum of thousandths as a DOUBLE of units (Spark would otherwise divide into a DECIMAL)."""
    return f"CAST({thousandths} AS DOUBLE) / {SCALE}"


def tenths(value: str) -> str:
    """SQL rounding a non-negative number to one decimal, half up, the same on every engine."""
    return f"CAST(floor(({value}) * 10 + 0.5) AS DOUBLE) / 10"
