"""Person-level building blocks shared by indicators (never released as such).

Each function returns SQL (DuckDB dialect) over the relations described in
``popflow.indicators.base``. Times are local epoch seconds ``t``; a local day
number is ``t // 86400``.
"""

from __future__ import annotations

from popflow.columns import UNKNOWN

DAY = 86_400
NIGHT_START = 22 * 3600  # a night runs from 22:00 on d ...
NIGHT_LENGTH = 8 * 3600  # ... to 06:00 on d+1
DAY_START, DAY_END = 9 * 3600, 17 * 3600  # weekday daytime [09:00, 17:00)
WEEKDAYS = 5  # calendar.weekday 1..5 = Monday..Friday


def with_query(ctes: list[tuple[str, str]], select: str) -> str:
    """``WITH name AS (sql), ... select``."""
    if not ctes:
        return select
    return "WITH " + ",\n".join(f"{name} AS ({sql})" for name, sql in ctes) + "\n" + select


def modal_location(events: str, slot: str) -> str:
    """Per person and slot, the area with the most events.

    A tie goes to the area of the latest of the tied events, then to the
    smaller ``area_id``. Columns: ``person, slot, area_id, events``.
    """
    return f"""
    SELECT person, slot, area_id, events FROM (
        SELECT person, {slot} AS slot, area_id, count(*) AS events, max(t) AS latest
        FROM {events} GROUP BY person, {slot}, area_id
    ) QUALIFY row_number() OVER (PARTITION BY person, slot ORDER BY events DESC, latest DESC, area_id) = 1
    """


def bin_locations(bin_seconds: int) -> str:
    """Observed bin locations: ``person, slot`` (bin start), ``area_id``, ``events``."""
    return modal_location("events", f"(t - t % {bin_seconds})")


def carried_bins(observed: str, bin_seconds: int, carry_hours: int) -> str:
    """Silent bins that take the location of the person's latest observed bin,
    when that bin started at most ``carry_hours`` earlier. Columns ``person, slot, area_id``."""
    reach = (carry_hours * 3600 // bin_seconds) * bin_seconds
    return f"""
    SELECT person, unnest(generate_series(slot + {bin_seconds}, stop, {bin_seconds})) AS slot, area_id
    FROM (
        SELECT person, slot, area_id,
               least(coalesce(lead(slot) OVER (PARTITION BY person ORDER BY slot), slot + {reach + bin_seconds})
                     - {bin_seconds}, slot + {reach}) AS stop
        FROM {observed}
    ) WHERE stop >= slot + {bin_seconds}
    """


def at_night(t: str) -> str:
    """Whether the moment ``t`` lies in a night (22:00 to 06:00)."""
    return f"(({t}) - {NIGHT_START}) % {DAY} < {NIGHT_LENGTH}"


def night_events() -> str:
    """Events in a night window; ``slot`` is the day number of the night's evening."""
    return f"""
    SELECT person, t, area_id, (t - {NIGHT_START}) // {DAY} AS night FROM events
    WHERE {at_night('t')}
    """


def foreigners(events: str = "events") -> str:
    """People with an event carrying a known MCC outside ``home_mccs``, with that country (the first in
    alphabetical order when several): ``person, country``."""
    return f"""SELECT e.person, min(m.country) AS country FROM {events} e
        JOIN mcc_countries m ON m.mcc = e.mcc WHERE e.mcc NOT IN (SELECT mcc FROM home_mccs)
        GROUP BY e.person"""


def day_events() -> str:
    """Events in weekday daytime [09:00, 17:00); ``day`` is the local day number."""
    return f"""
    SELECT e.person, e.t, e.area_id, e.t // {DAY} AS day FROM events e
    JOIN calendar c ON c.day = e.t // {DAY}
    WHERE e.t % {DAY} >= {DAY_START} AND e.t % {DAY} < {DAY_END} AND c.weekday <= {WEEKDAYS}
    """


def usual_location(slots: str, window_events: str, slot_column: str, minimum: int) -> str:
    """Per person and period, the area that is the slot location on the most slots.

    Ties go to more window events there in the period, then the smaller
    ``area_id``; fewer than ``minimum`` such slots leaves the location unknown
    (no row). Columns ``person, period, area_id``.
    """
    return f"""
    SELECT person, period, area_id FROM (
        SELECT s.person, s.period, s.area_id, s.slots, coalesce(w.events, 0) AS events
        FROM (SELECT l.person, c.period, l.area_id, count(*) AS slots
              FROM {slots} l JOIN calendar c ON c.day = l.slot GROUP BY l.person, c.period, l.area_id) s
        LEFT JOIN (SELECT e.person, c.period, e.area_id, count(*) AS events
                   FROM {window_events} e JOIN calendar c ON c.day = e.{slot_column}
                   GROUP BY e.person, c.period, e.area_id) w
          ON w.person = s.person AND w.period = s.period AND w.area_id = s.area_id
    ) QUALIFY row_number() OVER (PARTITION BY person, period ORDER BY slots DESC, events DESC, area_id) = 1
          AND slots >= {minimum}
    """


def home_ctes(min_nights: int) -> list[tuple[str, str]]:
    """CTEs ending in ``home(person, period, area_id)``: the usual night location."""
    return [
        ("night_events", night_events()),
        ("night_locations", modal_location("night_events", "night")),
        ("home", usual_location("night_locations", "night_events", "night", min_nights)),
    ]


def work_ctes(min_days: int) -> list[tuple[str, str]]:
    """CTEs ending in ``work(person, period, area_id)``: the usual weekday daytime location."""
    return [
        ("day_events", day_events()),
        ("day_locations", modal_location("day_events", "day")),
        ("work", usual_location("day_locations", "day_events", "day", min_days)),
    ]


def breakdown_columns(by: tuple[str, ...], alias: str = "s") -> str:
    """Select list of breakdown columns from ``subscribers`` (unknown when absent)."""
    return "".join(f", coalesce({alias}.{b}, '{UNKNOWN}') AS {b}" for b in by)


def breakdown_join(by: tuple[str, ...], person: str, alias: str = "s") -> str:
    """The join bringing in breakdown attributes, empty when none are asked for."""
    return f" LEFT JOIN subscribers {alias} ON {alias}.person = {person}" if by else ""
