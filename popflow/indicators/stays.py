"""Stays and moves: each person's events as a timeline of stays joined by moves.

A building block (person-level, never released as such), one definition in
SQL over ``events(person, t, area_id)`` for every engine. Times are local
epoch seconds. Parameters: ``max_gap`` (``--max-gap``, default 12 h, 1 h to
48 h), ``RETURN_WITHIN`` (1 h) and ``MIN_STAY`` (15 min).

A person's events, in time order (events of one second ordered by area_id),
become a timeline in four steps:

1. **Runs.** Consecutive events in one area form a run; a run ends where the
   area changes or where the person is silent for longer than ``max_gap``.
2. **Ping-pong.** A run *returns* when the run two or three before it (the one
   before the previous run, or the one before that) is in its area, and either
   ended at most ``RETURN_WITHIN`` before it began, or the runs in between are a
   single event (all their events in one second) and it ended at most
   ``max_gap`` before it began. The runs in between were then a brief
   excursion, such as a handover between neighbouring cells or areas (A B A
   within minutes, A B C A, or a single B event between As). A return *spans*
   the runs from the one it returns to up to itself. Runs linked by spans that
   overlap form an *episode* (an alternation A B A B A is one episode); a run
   in no span is an episode of its own. Every run of an episode takes the area
   of the episode's first run, except its last run, which keeps its own: an
   alternation back to where it began is one stay; one that ends in another
   area is one move, at its end.
3. **Stays.** Consecutive runs of one area (after step 2) without a silence
   longer than ``max_gap`` make a stay, from its first event (``first_t``) to
   its last (``last_t``). A stay reaches into the silence on each side of it:
   when the neighbouring stay's events are at most ``max_gap`` away, the two
   meet at the middle of the silence (``last_t + gap // 2`` of the earlier
   one); otherwise each reaches ``max_gap // 2`` into it, and the rest is
   *unknown* (the person is placed nowhere). A stay with no neighbour on a side
   reaches ``max_gap // 2`` into that side. So a stay lasts through silence up
   to ``max_gap``, two stays meet inside the gap between their events, and no
   stay reaches more than half of ``max_gap`` (rounded up) beyond its events.
   It covers ``[start_t, end_t)``.
4. **Pass-throughs.** A stay covering less than ``MIN_STAY`` (an area crossed
   on the way) is dropped with its events, and the stays left are timed again
   among themselves as in step 3.

Consecutive stays of a person are joined by a **move**; a move between stays
in different areas is a trip. Guarantees: a person's stays do not overlap and
each holds at least one of their events; a person with events has at least
one stay; every moment of a stay lies within ``max_gap / 2`` (rounded up) of
one of the person's events. Two consecutive stays share an area only where
dropped pass-throughs lay between them, and then place the person exactly as
one stay would.

Each step is a pass of window functions over the person's runs in time order
(no recursion). A run is carried as its area, its first event (``first_t``),
the person's event before it (``before_t``, the previous run's last event) and
the person's last event (``final_t``); so a run's last event is the next run's
``before_t``.
"""

from __future__ import annotations

from popflow.indicators.blocks import with_query

RETURN_WITHIN = 3600  # a return to an area within this makes the runs between ping-pong
MIN_STAY = 15 * 60  # a stay covering less is a pass-through
ORDER = "PARTITION BY person ORDER BY first_t, area_id"


def runs(max_gap: int) -> str:
    """Step 1: runs as pieces (one row per run, at its first event); the person's last event joined from a
    grouping (cheaper than a second window over every event)."""
    order = "PARTITION BY person ORDER BY t, area_id"
    return f"""
    SELECT r.person, r.area_id, r.first_t, r.before_t, f.final_t FROM (
        SELECT person, area_id, t AS first_t, before_t FROM (
            SELECT person, t, area_id, lag(area_id) OVER ({order}) AS before_area, lag(t) OVER ({order}) AS before_t
            FROM events)
        WHERE before_area IS NULL OR before_area <> area_id OR t - before_t > {max_gap}
    ) r JOIN (SELECT person, max(t) AS final_t FROM events GROUP BY person) f ON f.person = r.person
    """


def _returns(back: int, max_gap: int) -> str:
    """Whether a run returns to the run ``back`` runs before it (a run's last event is the ``before_t`` of the
    run after it)."""
    away = f"(first_t - lag(before_t, {back - 1}) OVER ({ORDER}))"
    single = f"before_t = lag(first_t, {back - 1}) OVER ({ORDER})"  # the runs between are one second
    return (f"coalesce(area_id = lag(area_id, {back}) OVER ({ORDER}) "
            f"AND ({away} <= {RETURN_WITHIN} OR {away} <= {max_gap} AND {single}), false)")


def returns(relation: str, max_gap: int) -> str:
    """Step 2, first pass: whether each run returns to the run two (``returns_2``) or three (``returns_3``)
    before it."""
    return f"SELECT *, {_returns(2, max_gap)} AS returns_2, {_returns(3, max_gap)} AS returns_3 FROM {relation}"


def _spanned(run: int) -> str:
    """Whether a return spans the run ``run`` runs later and the one before it (so both are in one episode)."""
    spans = [(f"returns_{back}", later) for back in (2, 3) for later in range(run, run + back)]
    return "(" + " OR ".join(flag if later == 0 else f"coalesce(lead({flag}, {later}) OVER ({ORDER}), false)"
                             for flag, later in spans) + ")"


def episode_ends(relation: str) -> str:
    """Step 2, second pass: the first and last run of each episode, ``joined`` marking a last run that is not
    also the first."""
    return f"""
    SELECT person, area_id, first_t, before_t, final_t, joined FROM (
        SELECT person, area_id, first_t, before_t, final_t, {_spanned(0)} AS joined, {_spanned(1)} AS continued
        FROM {relation})
    WHERE NOT joined OR NOT continued
    """


def _start(first: str, before: str, max_gap: int) -> str:
    """Where a piece with first event ``first`` begins, the previous piece's last event being ``before``."""
    gap = f"({first} - {before})"
    return f"{first} - coalesce(CASE WHEN {gap} <= {max_gap} THEN {gap} - {gap} // 2 END, {max_gap // 2})"


def _end(last: str, after: str, max_gap: int) -> str:
    """Where a piece with last event ``last`` ends, the next piece's first event being ``after``."""
    gap = f"({after} - {last})"
    return f"{last} + coalesce(CASE WHEN {gap} <= {max_gap} THEN {gap} // 2 END, {max_gap // 2})"


def pieces(relation: str, max_gap: int) -> str:
    """Steps 2 (third pass) and 3: the pieces after ping-pong, timed (``person, area_id, first_t, last_t,
    start_t, end_t``).

    Each episode is one piece in its first run's area, or two when its last run is in another area. Over the
    episodes' first and last runs, a last run (``joined``) in its episode's area (the row before) continues
    that piece; every other row starts one, which ends at the event before the next start.
    """
    skip = f"coalesce(lead(joined) OVER ({ORDER}) AND lead(area_id) OVER ({ORDER}) = area_id, false)"
    ends = f"""
        SELECT person, area_id, first_t, before_t,
               NOT joined OR area_id <> lag(area_id) OVER ({ORDER}) AS starts,
               CASE WHEN {skip} THEN coalesce(lead(before_t, 2) OVER ({ORDER}), final_t)
                    ELSE coalesce(lead(before_t) OVER ({ORDER}), final_t) END AS last_t,
               CASE WHEN {skip} THEN lead(first_t, 2) OVER ({ORDER}) ELSE lead(first_t) OVER ({ORDER}) END AS after_t
        FROM {relation}"""
    return f"""
    SELECT person, area_id, first_t, last_t, {_start('first_t', 'before_t', max_gap)} AS start_t,
           {_end('last_t', 'after_t', max_gap)} AS end_t
    FROM ({ends}) WHERE starts
    """


def kept(relation: str, max_gap: int) -> str:
    """Step 4: the pieces covering at least ``MIN_STAY``, timed again among themselves."""
    neighbours = f"""
        SELECT person, area_id, first_t, last_t, lag(last_t) OVER ({ORDER}) AS before_t,
               lead(first_t) OVER ({ORDER}) AS after_t
        FROM {relation} WHERE end_t - start_t >= {MIN_STAY}"""
    return f"""
    SELECT person, area_id, first_t, last_t, {_start('first_t', 'before_t', max_gap)} AS start_t,
           {_end('last_t', 'after_t', max_gap)} AS end_t
    FROM ({neighbours})
    """


def stays_ctes(max_gap: int) -> list[tuple[str, str]]:
    """CTEs ending in ``stays(person, area_id, first_t, last_t, start_t, end_t)``."""
    return [
        ("stay_runs", runs(max_gap)),
        ("stay_returns", returns("stay_runs", max_gap)),
        ("stay_episode_ends", episode_ends("stay_returns")),
        ("stay_pieces", pieces("stay_episode_ends", max_gap)),
        ("stays", kept("stay_pieces", max_gap)),
    ]


def stays(max_gap: int) -> str:
    """The stays as one query."""
    return with_query(stays_ctes(max_gap), "SELECT person, area_id, first_t, last_t, start_t, end_t FROM stays")


def stay_bins(relation: str, bin_seconds: int) -> str:
    """Per person and bin, the area of the stay covering the bin's middle second (``slot + bin // 2``):
    ``person, slot, area_id``. A bin whose middle falls in unknown time has no row."""
    middle = bin_seconds // 2
    return f"""
    SELECT person, unnest(generate_series(first_slot, last_slot, {bin_seconds})) AS slot, area_id
    FROM (SELECT person, area_id, (start_t - {middle} + {bin_seconds - 1}) // {bin_seconds} * {bin_seconds}
                     AS first_slot,
                 (end_t - 1 - {middle}) // {bin_seconds} * {bin_seconds} AS last_slot
          FROM {relation})
    WHERE first_slot <= last_slot
    """
