"""Detection of visits: how many visits each visit found stands for, in tourism's estimates.

A building block (person-level, never released). Most visits leave no sign
where they happen: a phone that is silent during a trip is placed at home, or
nowhere. A visit that is seen stands for the visits of the same person that
were not, by the inverse of the probability that such a visit is seen,
estimated from the person's own days (a Horvitz–Thompson estimator, whose
sample is the visits seen).

- The **hours of a visit** are the bins (``--bin``) its stays cover in the
  visited area: for a same-day visit on day d, the bins of d spent there; for
  an overnight visit of night d, the bins from noon on d to noon on d+1 spent
  there (the night and the evening and morning around it).
- A visit is **seen** when the person has events in those hours and the
  visited area holds more than half of them: the visit shows in events of
  its own, not in stays reaching through silence nor in a phone served across
  a border now and then.
- The **hours of its detection rate** are, for an overnight visit, its
  hours; for a same-day visit, the bins from the first to the last of its
  hours with an event in the visited area, widened evenly (inside the day)
  to ``--min-visit-bins`` bins when shorter: the part of the day the visit
  was seen to last, and at least the least a same-day visit lasts. Its stays
  reach halfway into the silences around it, so a short visit of a sparse
  phone looks longer than it was (in ``benchmarks/accuracy.py`` same-day
  visits of 4.6 to 6 true hours came out 6.3 to 7.5 bins long), and the
  chance of an event in those longer hours overstated how often such a visit
  is seen.
- The **detection rate** of a seen visit is the share of the person's other
  days of the month seen in the release window (from their first to their
  last day with an event; for an overnight visit, the nights between them) on
  which they made an event in the hours of its detection rate, wherever they
  were: how often a visit like this one would have been seen. It is shrunk
  towards the rate pooled over every seen visit of the same visitor type (the
  visitors' other days with an event in those hours ÷ their other days), as
  if the person had ``PRIOR_DAYS`` more days at that rate: a visitor seen on
  two days gets about the region's rate, not a 0 or 1 of their own, and a
  month of their own days weighs as much as the region's.
  A person's own month is a noisy measure; measured in
  ``benchmarks/accuracy.py``, less shrinkage was further from the truth
  (see the README's Accuracy section). The rate is at least
  ``DETECTION_FLOOR``, so that one sparse phone cannot explode a cell.
- The **detection factor** of a visit is 1 ÷ its detection rate when it is
  seen, and 0 when it is not (the visits seen stand for it).

The detection factor multiplies the person's weight in the visit's estimate
(``Contribution.weight_factor``); the count of visitors is unchanged. Its
interval widens by itself: the weight × factor is the inverse of the chance
that a person is a subscriber and their visit is seen, and the estimates'
sampling variance Σ w(w − 1) is taken over those products. Measured in
``benchmarks/accuracy.py``.
"""

from __future__ import annotations

from popflow.indicators.blocks import DAY

NOON = DAY // 2  # an overnight visit's hours run from noon on its day to noon the next
PRIOR_DAYS = 30  # days at the pooled rate added to each person's own days: about a month, as much as their own
DETECTION_FLOOR = 0.2  # the least detection rate, so a visit counts at most 5 times
FACTOR = "detection_factor"
OVERNIGHT = "domestic_overnight"


def detection_ctes(bin_seconds: int, min_visit_bins: int) -> list[tuple[str, str]]:
    """CTEs ending in ``visit_detection(person, day, area_id, visitor_type, detection_factor)`` for every seen
    visit. Read ``overnight`` and ``sameday`` (``person, day, area_id, period, visitor_type``), ``stay_day_bins``
    (``person, slot, area_id``: the stay holding each bin's middle), ``events`` and ``calendar``."""
    return [
        ("visit_bins", f"""
            SELECT v.person, v.day, v.area_id, v.visitor_type, v.period, v.shift,
                   (b.slot - v.day * {DAY} - v.shift) // {bin_seconds} AS bin_of_day
            FROM (SELECT person, day, area_id, visitor_type, period, {NOON} AS shift FROM overnight
                  UNION ALL SELECT person, day, area_id, visitor_type, period, 0 AS shift FROM sameday) v
            JOIN stay_day_bins b ON b.person = v.person AND b.area_id = v.area_id
                 AND b.slot >= v.day * {DAY} + v.shift AND b.slot < v.day * {DAY} + v.shift + {DAY}"""),
        ("visit_events", f"""
            SELECT e.person, s.shift, (e.t - s.shift) // {DAY} AS day,
                   ((e.t - s.shift) % {DAY}) // {bin_seconds} AS bin_of_day, e.area_id, count(*) AS events
            FROM events e CROSS JOIN (SELECT 0 AS shift UNION ALL SELECT {NOON} AS shift) s
            GROUP BY e.person, s.shift, (e.t - s.shift) // {DAY}, ((e.t - s.shift) % {DAY}) // {bin_seconds},
                     e.area_id"""),
        ("visit_seen", """
            SELECT v.person, v.day, v.area_id, v.visitor_type, v.period FROM visit_bins v
            JOIN visit_events e ON e.person = v.person AND e.shift = v.shift AND e.day = v.day
                 AND e.bin_of_day = v.bin_of_day
            GROUP BY v.person, v.day, v.area_id, v.visitor_type, v.period
            HAVING 2 * sum(CASE WHEN e.area_id = v.area_id THEN e.events ELSE 0 END) > sum(e.events)"""),
        ("visit_hours", _rate_hours(bin_seconds, min_visit_bins)),
        ("visit_span", f"""
            SELECT s.person, s.day, s.area_id, s.visitor_type, p.first_day,
                   p.last_day - CASE WHEN s.visitor_type = '{OVERNIGHT}' THEN 1 ELSE 0 END AS last_day
            FROM visit_seen s JOIN (
                SELECT e.person, c.period, min(c.day) AS first_day, max(c.day) AS last_day
                FROM events e JOIN calendar c ON c.day = e.t // {DAY} GROUP BY e.person, c.period
            ) p ON p.person = s.person AND p.period = s.period"""),
        ("visit_days", """
            SELECT r.person, r.day, r.area_id, r.visitor_type,
                   r.last_day - r.first_day + 1
                   - CASE WHEN r.day BETWEEN r.first_day AND r.last_day THEN 1 ELSE 0 END AS days,
                   count(DISTINCT e.day) AS hits
            FROM visit_span r
            JOIN visit_hours b ON b.person = r.person AND b.day = r.day AND b.area_id = r.area_id
                 AND b.visitor_type = r.visitor_type
            LEFT JOIN visit_events e ON e.person = b.person AND e.shift = b.shift AND e.bin_of_day = b.bin_of_day
                 AND e.day BETWEEN r.first_day AND r.last_day AND e.day <> r.day
            GROUP BY r.person, r.day, r.area_id, r.visitor_type, r.first_day, r.last_day"""),
        ("visit_detection", f"""
            SELECT d.person, d.day, d.area_id, d.visitor_type,
                   CASE WHEN t.days = 0 THEN 1.0 ELSE
                        CAST((d.days + {PRIOR_DAYS}) * t.days AS DOUBLE)
                        / greatest(d.hits * t.days + {PRIOR_DAYS} * t.hits,
                                   {DETECTION_FLOOR} * (d.days + {PRIOR_DAYS}) * t.days) END AS {FACTOR}
            FROM visit_days d JOIN (
                SELECT visitor_type, sum(days) AS days, sum(hits) AS hits FROM visit_days GROUP BY visitor_type
            ) t ON t.visitor_type = d.visitor_type"""),
    ]



def _rate_hours(bin_seconds: int, min_visit_bins: int) -> str:
    """``visit_hours(person, day, area_id, visitor_type, shift, bin_of_day)``: the hours of each visit's detection
    rate (an overnight visit's bins; a same-day visit's seen span, widened evenly to ``min_visit_bins`` bins)."""
    per_day = DAY // bin_seconds
    return f"""
    SELECT person, day, area_id, visitor_type, shift, bin_of_day FROM visit_bins WHERE shift = {NOON}
    UNION ALL
    SELECT person, day, area_id, visitor_type, shift, unnest(generate_series(first_bin, first_bin + bins - 1))
           AS bin_of_day
    FROM (SELECT person, day, area_id, visitor_type, shift, bins,
                 least(greatest(first_seen - (bins - (last_seen - first_seen + 1)) // 2, 0), {per_day} - bins)
                 AS first_bin
          FROM (SELECT v.person, v.day, v.area_id, v.visitor_type, v.shift, min(v.bin_of_day) AS first_seen,
                       max(v.bin_of_day) AS last_seen,
                       least(greatest(max(v.bin_of_day) - min(v.bin_of_day) + 1, {min_visit_bins}), {per_day}) AS bins
                FROM visit_bins v JOIN visit_events e ON e.person = v.person AND e.shift = v.shift
                     AND e.day = v.day AND e.bin_of_day = v.bin_of_day AND e.area_id = v.area_id
                WHERE v.shift = 0
                GROUP BY v.person, v.day, v.area_id, v.visitor_type, v.shift))"""
