"""Detection of trips: how many trips each trip found stands for, in od-flows' estimates.

A building block (person-level, never released). A trip is found only when
the phone makes events on both sides of it (see ``stays``): a sparse phone's
commute or lunch trip often leaves no event and is not found. A trip found
stands for the trips of people as sparse that were not, by the inverse of
the rate at which such people's trips are found (a Horvitz–Thompson
estimator whose sample is the trips found).

- A person's **activity** is their mean number of *active waking hours* per
  day: the local clock hours outside the nights (06:00 to 22:00) in which
  they made an event, over the release window's days from their first to
  their last day with an event there, silent days included (a trip on a
  silent day is missed too). Its whole part is the person's **activity
  class** (0 to 16).
- A class's **trip rate** is the trips found of its people (od-flows' trips
  dated in the window) ÷ their days, shrunk towards the rate pooled over
  everyone as if the class had ``PRIOR_DAYS`` more person-days at that rate:
  a class of a few people gets about the pooled rate, not a chance high or
  low of its own.
- The **reference rate** is the highest class trip rate: that of the people
  whose trips are found best.
- The **detection rate** of a class is its trip rate ÷ the reference rate
  (at most 1), at least ``DETECTION_FLOOR`` so that one sparse phone cannot
  explode a cell. The **detection factor** of each trip a person makes is
  1 ÷ their class's detection rate (1 when no trip is found at all).

Assumptions, stated: people of every activity class make as many trips per
day as those of the reference class, so that a class finds fewer only
because its phone is sparser. Where dense and sparse phones belong to people
who move differently (the young use phones more and may travel more), the
factor mixes the two: it overstates sparse people's trips when they truly
move less. And the reference class is taken to find every trip: trips no
phone density shows (a round trip of under an hour, which stays read as
ping-pong; a walk across a district border and back) are not stood for, so
estimates stay short by that share. Denser phones do not always find more:
on the synthetic world of ``benchmarks/accuracy.py`` the densest classes find
fewer trips than middling ones (likely because their frequent handovers
make stays read more real moves as ping-pong or a border place), which is
why the reference is the best class, not the densest. Measured in
``benchmarks/accuracy.py``.

The detection factor multiplies the person's weight in their rows' estimates
(``Contribution.weight_factor``): ``trips_estimate`` and the estimate of
travellers, who are found when one of their trips in the cell is (mostly
one a day per origin and destination, so the same factor). The counts of
trips and travellers are unchanged. The 90 % interval widens by itself (the
estimates' sampling variance Σ w(w − 1) is taken over the products) and by
the model's own error, ``DETECTION_ERROR`` (20 % of the estimate, one
standard deviation, measured): the assumptions above hold only so far, and
the estimates of the synthetic world fall 7–14 % short in the median cell.
"""

from __future__ import annotations

from popflow.indicators.blocks import DAY, at_night

HOUR = 3600
PRIOR_DAYS = 1000  # person-days at the pooled rate added to each class: a month of about 30 people
DETECTION_FLOOR = 0.2  # the least detection rate, so a trip counts at most 5 times
# Standard deviation of the detection-adjusted estimates' error, relative to the estimate: measured on the synthetic
# world of ``benchmarks/accuracy.py`` (OD-day cells), where the travellers' 90 % intervals then hold the truth in
# 92 % (seed 5) and 87 % (seed 7) of them, against 76 % and 69 % with the placement error alone.
DETECTION_ERROR = 0.2
FACTOR = "detection_factor"


def detection_ctes(trips: str) -> list[tuple[str, str]]:
    """CTEs ending in ``trip_detection(person, detection_factor)`` for every person with an event in the window.

    Read ``trips`` (``person, trips``: rows of trips found, dated in the window), ``events`` and ``calendar``.
    """
    return [
        ("trip_activity", f"""
            SELECT e.person, count(DISTINCT CASE WHEN NOT {at_night('e.t')} THEN e.t // {HOUR} END) AS hours,
                   max(c.day) - min(c.day) + 1 AS days
            FROM events e JOIN calendar c ON c.day = e.t // {DAY} GROUP BY e.person"""),
        ("trip_classes", f"""
            SELECT a.person, a.hours // a.days AS activity, a.days, coalesce(t.trips, 0) AS trips
            FROM trip_activity a
            LEFT JOIN (SELECT person, sum(trips) AS trips FROM {trips} GROUP BY person) t ON t.person = a.person"""),
        ("trip_rates", f"""
            SELECT r.activity, (r.trips + {PRIOR_DAYS} * p.rate) / (r.days + {PRIOR_DAYS}) AS rate
            FROM (SELECT activity, sum(trips) AS trips, sum(days) AS days FROM trip_classes GROUP BY activity) r
            CROSS JOIN (SELECT CAST(sum(trips) AS DOUBLE) / sum(days) AS rate FROM trip_classes) p"""),
        ("trip_detection", f"""
            SELECT c.person,
                   CASE WHEN x.reference > 0
                        THEN 1.0 / greatest({DETECTION_FLOOR}, r.rate / x.reference) ELSE 1.0 END AS {FACTOR}
            FROM trip_classes c JOIN trip_rates r ON r.activity = c.activity
            CROSS JOIN (SELECT max(rate) AS reference FROM trip_rates) x"""),
    ]
