"""Stays and moves: each person's events as a timeline of stays joined by moves.

A building block (person-level, never released as such), one definition in
SQL over ``events(person, t, area_id)`` for every engine. Times are local
epoch seconds. Parameters: ``max_gap`` (``--max-gap``, default 12 h, 1 h to
48 h), ``LINK_WITHIN`` (5 min), ``LINKED_DAYS`` (4), ``RETURN_WITHIN`` (1 h)
and ``MIN_STAY`` (15 min).

A person's events, in time order (events of one second ordered by area_id),
become a timeline in five steps:

1. **Runs.** Consecutive events in one area form a run; a run ends where the
   area changes or where the person is silent for longer than ``max_gap``.
2. **Linked areas.** A person *alternates* between areas A and B on a day
   when two of their consecutive events at most ``LINK_WITHIN`` apart go from
   A to B and two go from B to A (dated by the later event of each pair). A
   and B are *linked* for the person when they alternate between them on at
   least ``LINKED_DAYS`` days: a place of theirs near the border of the two
   areas, served by towers on both sides. Of the areas linked to an area
   that hold more of the person's events than it does and at least as many
   of their night events (22:00 to 06:00; so that the area of a home is not
   absorbed by the area of a busier day place), the area *leans on* the one
   holding the most events (ties: the smaller area_id). Every run in an
   area that leans takes the area it leans on, and consecutive runs then in
   one area without a silence longer than ``max_gap`` are one run. So a
   border place is one place, in the area the person is seen in more often,
   whatever the number of events a spell on the other tower holds; a real
   visit to the area that leans is absorbed too (the events cannot tell the
   two apart). Links and counts are read over all the events a release
   reads.
3. **Ping-pong.** A run *returns* when the run two or three before it (the one
   before the previous run, or the one before that) is in its area, and either
   ended at most ``RETURN_WITHIN`` before it began, or the runs in between are a
   single event (all their events in one second) and it ended at most
   ``max_gap`` before it began. The runs in between were then a brief
   excursion, such as a handover between neighbouring cells or areas (A B A
   within minutes, A B C A, or a single B event between As). A return *spans*
   the runs from the one it returns to up to itself. Runs linked by spans that
   overlap form an *episode* (an alternation A B A B A is one episode); a run
   in no span is an episode of its own. An episode's *area* is the area
   holding most of its events, its last run left out when it has several
   (ties: the area met first). Every run of the episode takes that area,
   except a last run in another area holding at least as many events as the
   episode's area does in its other runs, which keeps its own: the person
   moved there, one move at the episode's end. So an alternation is one stay
   in the area most of it was seen in, whichever tower it began or ended on
   (A B A B, B A A B A); a last event across the border before a quiet night
   stays in the episode; ping-pong that goes on to more events elsewhere is
   one move.
4. **Stays.** Consecutive runs of one area (after step 3) without a silence
   longer than ``max_gap`` make a stay, from its first event (``first_t``) to
   its last (``last_t``). A stay reaches into the silence on each side of it.
   When the neighbouring stay's events are at most ``max_gap`` away, the two
   meet inside the silence where half of its *waking time* (the time outside
   the nights, 22:00 to 06:00 local) has passed: a move is placed in waking
   hours, so a silence over a night goes to the earlier stay until the middle
   of its waking part, and a silence with no waking time goes wholly to the
   earlier stay. Exactly: with a *waking clock* counting waking seconds, they
   meet at the last moment the clock shows the mean (rounded down) of its
   readings at the two events - 06:00 when it shows it through a night - and
   no later than the later event. Otherwise each reaches ``max_gap // 2``
   into the silence, and the rest is *unknown* (the person is placed
   nowhere). A stay with no neighbour on a side reaches ``max_gap // 2`` into
   that side. It covers ``[start_t, end_t)``.
5. **Pass-throughs.** A stay covering less than ``MIN_STAY`` (an area crossed
   on the way) is dropped with its events, and the stays left are timed again
   among themselves as in step 4.

Consecutive stays of a person are joined by a **move**; a move between stays
in different areas is a trip. Guarantees: a person's stays do not overlap,
each begins at one of their events and holds at least one of their events in
its area or in an area leaning on it; a person with events has at least one
stay; every moment of a stay lies between two of the person's events at most
``max_gap`` apart or within ``max_gap / 2`` (rounded up) of one of their
events. Two consecutive stays
share an area only where dropped pass-throughs lay between them, and then
place the person exactly as one stay would.

Each step is a pass of window functions over the person's runs in time order,
or a grouping (no recursion). A run is carried as its area, its first event
(``first_t``) and that event's number among the person's events (``n``, which
orders runs, pieces and stays in time), the person's event before it
(``before_t``), its last event (``last_t``, the next run's ``before_t``) and
its number of events (the difference of its ``n`` and the next run's). Links
are a grouping of the runs that begin with a change of area, and a person's
events per area a grouping of the events (beside the window that numbers
them). Leaning is a join, not a pass: the run before a run is in the area of
the event before it. Returns are read in one pass, for the run itself and the
three after it, so the spans linking a run to the one before it and to the one
after it need no second pass. An episode of several runs is tallied per area;
a run alone skips the tally.
"""

from __future__ import annotations

from popflow.indicators.blocks import DAY, NIGHT_LENGTH, NIGHT_START, at_night, with_query

RETURN_WITHIN = 3600  # a return to an area within this makes the runs between ping-pong
LINK_WITHIN = 300  # consecutive events in two areas at most this apart: the person alternates between them
LINKED_DAYS = 4  # days of alternation in both directions that link two areas for a person
# Links read only changes of area minutes apart, so the silence that splits runs read for linking alone does
# not matter to them: the longest --max-gap leaves the fewest runs.
LINK_SPLIT = 2 * DAY
MIN_STAY = 15 * 60  # a stay covering less is a pass-through
WAKING_FROM = NIGHT_START + NIGHT_LENGTH - DAY  # 06:00, when a night ends
WAKING = DAY - NIGHT_LENGTH  # waking seconds in a day
ORDER = "PARTITION BY person ORDER BY n"  # runs, pieces and stays in time order (n: their first event's number)


def counts(events: str) -> str:
    """Each person's events, night events (22:00 to 06:00) and last event per area (``person, area_id, events,
    night_events, final_t``) in ``events``."""
    return f"""
    SELECT person, area_id, count(*) AS events, count(CASE WHEN {at_night('t')} THEN 1 END) AS night_events,
           max(t) AS final_t
    FROM {events} GROUP BY person, area_id"""


def runs(events: str, counted: str, max_gap: int) -> str:
    """Step 1: runs as pieces (one row per run, at its first event, ``n`` its first event's number among the
    person's events, ``before_area`` the area of the event before it); the person's last event and event
    count from the grouping ``counted`` (cheaper than a second window over every event)."""
    order = "PARTITION BY person ORDER BY t, area_id"
    return f"""
    SELECT r.person, r.area_id, r.before_area, r.first_t, r.before_t, r.n, f.final_t, f.total FROM (
        SELECT person, area_id, before_area, t AS first_t, before_t, n FROM (
            SELECT person, t, area_id, lag(area_id) OVER ({order}) AS before_area, lag(t) OVER ({order}) AS before_t,
                   row_number() OVER ({order}) AS n
            FROM {events})
        WHERE before_area IS NULL OR before_area <> area_id OR t - before_t > {max_gap}
    ) r JOIN (SELECT person, max(final_t) AS final_t, sum(events) AS total FROM {counted} GROUP BY person) f
    ON f.person = r.person
    """


def links(relation: str) -> str:
    """Step 2, linked areas: pairs (``area_a`` < ``area_b``) between which the person's consecutive events
    change at most ``LINK_WITHIN`` apart in both directions on one day, on at least ``LINKED_DAYS`` days (a
    run's ``before_area`` and ``before_t`` are the event before it)."""
    low, high = "least(area_id, before_area)", "greatest(area_id, before_area)"
    return f"""
    SELECT person, area_a, area_b FROM (
        SELECT person, {low} AS area_a, {high} AS area_b FROM {relation}
        WHERE before_area <> area_id AND first_t - before_t <= {LINK_WITHIN}
        GROUP BY person, {low}, {high}, first_t // {DAY} HAVING count(DISTINCT area_id) = 2)
    GROUP BY person, area_a, area_b HAVING count(*) >= {LINKED_DAYS}"""


def leans(linked: str, counted: str) -> str:
    """Step 2, leaning: each area of a person with a linked area holding more of their events and at least as
    many of their night events, and the one of those holding most events (ties: the smaller area_id) as
    ``target``."""
    return f"""
    SELECT person, area_id, target FROM (
        SELECT c.person, c.area_id, o.area_id AS target,
               row_number() OVER (PARTITION BY c.person, c.area_id ORDER BY o.events DESC, o.area_id) AS rank
        FROM (SELECT person, area_a AS area_id, area_b AS other FROM {linked}
              UNION ALL SELECT person, area_b AS area_id, area_a AS other FROM {linked}) l
        JOIN {counted} c ON c.person = l.person AND c.area_id = l.area_id
        JOIN {counted} o ON o.person = l.person AND o.area_id = l.other
        WHERE o.events > c.events AND o.night_events >= c.night_events)
    WHERE rank = 1"""


def leaned(relation: str, leaning: str, max_gap: int) -> str:
    """Step 2, the runs in the areas they lean on, consecutive runs of one area without a silence longer than
    ``max_gap`` as one (a run is carried by its first event: the rows continuing another are left out). The
    run before a run is in the area of the event before it (``before_area``), so both areas are leaned by a
    join, without a pass in time order."""
    area = "coalesce(l.target, r.area_id)"
    return f"""
    SELECT r.person, {area} AS area_id, r.first_t, r.before_t, r.n, r.final_t, r.total
    FROM {relation} r LEFT JOIN {leaning} l ON l.person = r.person AND l.area_id = r.area_id
    LEFT JOIN {leaning} b ON b.person = r.person AND b.area_id = r.before_area
    WHERE r.before_area IS NULL OR coalesce(b.target, r.before_area) <> {area} OR r.first_t - r.before_t > {max_gap}"""


def _at(column: str, offset: int) -> str:
    """``column`` of the run ``offset`` runs later (earlier when negative) in the person's timeline."""
    if offset == 0:
        return column
    return f"{'lead' if offset > 0 else 'lag'}({column}, {abs(offset)}) OVER ({ORDER})"


def _returns(run: int, back: int, max_gap: int) -> str:
    """Whether the run ``run`` runs later returns to the run ``back`` runs before it (a run's last event is the
    ``before_t`` of the run after it)."""
    away = f"({_at('first_t', run)} - {_at('before_t', run - back + 1)})"
    single = f"{_at('before_t', run)} = {_at('first_t', run - back + 1)}"  # the runs between are one second
    return (f"coalesce({_at('area_id', run)} = {_at('area_id', run - back)} "
            f"AND ({away} <= {RETURN_WITHIN} OR {away} <= {max_gap} AND {single}), false)")


def _spanned(run: int) -> str:
    """Whether a return spans the run ``run`` runs later and the one before it (so both are in one episode)."""
    return "(" + " OR ".join(f"returns_{later}_{back}" for back in (2, 3) for later in range(run, run + back)) + ")"


def returns(relation: str, max_gap: int) -> str:
    """Step 3, first pass: whether each run and the one before it are spanned by a return (``joined``), and the
    run after it and itself (``continued``); each run's event count and last event. ``returns_{j}_{b}``: whether
    the run ``j`` runs later returns to the run ``b`` before it, all read in one pass."""
    flags = ", ".join(f"{_returns(later, back, max_gap)} AS returns_{later}_{back}"
                      for back in (2, 3) for later in range(back + 1))
    return f"""
    SELECT person, area_id, n, first_t, before_t, last_t, final_t, events, {_spanned(0)} AS joined,
           {_spanned(1)} AS continued
    FROM (SELECT person, area_id, n, first_t, before_t, final_t, {flags},
                 coalesce(lead(n) OVER ({ORDER}), total + 1) - n AS events,
                 coalesce(lead(before_t) OVER ({ORDER}), final_t) AS last_t
          FROM {relation})"""


def episodes(relation: str) -> str:
    """Step 3, second pass: each run's episode (numbered in time order); ``closing`` marks the last run of an
    episode of several runs."""
    return f"""
    SELECT person, area_id, n, first_t, before_t, last_t, final_t, events, joined AND NOT continued AS closing,
           NOT joined AND NOT continued AS alone,
           sum(CASE WHEN joined THEN 0 ELSE 1 END) OVER ({ORDER} ROWS UNBOUNDED PRECEDING) AS episode
    FROM {relation}"""


def episode_pieces(relation: str) -> str:
    """Step 3, third pass: each episode as one piece in its area, or two when its closing run is a move
    (``person, area_id, first_t, last_t``).

    A run alone is its own piece. The runs of longer episodes are tallied per episode, area and whether they
    close the episode; over an episode's tallies in order (non-closing first, most events first, then the
    earliest, then the smaller area_id) the first gives the episode's area, and the closing tally is a move
    when it is in another area and holds at least as many events.
    """
    episode = "PARTITION BY person, episode"
    ranked = f"{episode} ORDER BY closing, events DESC, n"
    closing = ", ".join(f"max(CASE WHEN closing THEN {column} END) OVER ({episode}) AS closing_{column}"
                        for column in ("area_id", "events", "before_t"))
    tallies = f"""
        SELECT *, row_number() OVER ({ranked}) AS rank, first_value(area_id) OVER ({ranked}) AS episode_area,
               first_value(events) OVER ({ranked}) AS episode_events, min(n) OVER ({episode}) AS episode_n,
               min(first_t) OVER ({episode}) AS episode_first,
               max(last_t) OVER ({episode}) AS episode_last, {closing}
        FROM (SELECT person, episode, area_id, closing, sum(events) AS events, min(n) AS n, min(first_t) AS first_t,
                     max(last_t) AS last_t, max(before_t) AS before_t, max(final_t) AS final_t
              FROM {relation} WHERE NOT alone GROUP BY person, episode, area_id, closing)"""
    moved = "coalesce(closing_area_id <> episode_area AND closing_events >= episode_events, false)"
    return f"""
    SELECT person, area_id, n, first_t, last_t, final_t FROM {relation} WHERE alone
    UNION ALL
    SELECT person, area_id, CASE WHEN closing THEN n ELSE episode_n END AS n,
           CASE WHEN closing THEN first_t ELSE episode_first END AS first_t,
           CASE WHEN closing THEN last_t WHEN moved THEN closing_before_t ELSE episode_last END AS last_t, final_t
    FROM (SELECT *, {moved} AS moved FROM ({tallies}))
    WHERE rank = 1 OR closing AND moved
    """


def joined(relation: str, max_gap: int) -> str:
    """Step 4: consecutive pieces of one area without a silence longer than ``max_gap`` as one stay, each with
    where it starts and ends.

    A piece starts a stay unless it continues the one before; a stay's last event is the one before the next
    stay's first piece (its ``before_t``), or the person's last event.
    """
    starts = f"""
        SELECT person, area_id, n, first_t, final_t, before_t FROM (
            SELECT person, area_id, n, first_t, final_t, lag(last_t) OVER ({ORDER}) AS before_t,
                   lag(area_id) OVER ({ORDER}) AS before_area
            FROM {relation})
        WHERE before_area IS NULL OR before_area <> area_id OR first_t - before_t > {max_gap}"""
    ends = f"""
        SELECT person, area_id, n, first_t, before_t, coalesce(lead(before_t) OVER ({ORDER}), final_t) AS last_t,
               lead(first_t) OVER ({ORDER}) AS after_t
        FROM ({starts})"""
    return f"""
    SELECT person, area_id, n, first_t, last_t, {_start('first_t', 'before_t', max_gap)} AS start_t,
           {_end('last_t', 'after_t', max_gap)} AS end_t
    FROM ({ends})
    """


def _waking_clock(t: str) -> str:
    """Waking seconds (time outside the nights, 22:00 to 06:00) from the epoch to the moment ``t``."""
    return f"(({t}) // {DAY} * {WAKING} + least(greatest(({t}) % {DAY} - {WAKING_FROM}, 0), {WAKING}))"


def _meeting(last: str, after: str) -> str:
    """Where two pieces meet in the silence between ``last`` and ``after`` (at most ``max_gap`` apart): the
    last moment the waking clock shows the mean of its readings at both (rounded down), at most ``after``."""
    half = f"(({_waking_clock(last)} + {_waking_clock(after)}) // 2)"
    return f"least({after}, {half} // {WAKING} * {DAY} + {WAKING_FROM} + {half} % {WAKING})"


def _start(first: str, before: str, max_gap: int) -> str:
    """Where a piece with first event ``first`` begins, the previous piece's last event being ``before``."""
    return f"coalesce(CASE WHEN {first} - {before} <= {max_gap} THEN {_meeting(before, first)} END, " \
           f"{first} - {max_gap // 2})"


def _end(last: str, after: str, max_gap: int) -> str:
    """Where a piece with last event ``last`` ends, the next piece's first event being ``after``."""
    return f"coalesce(CASE WHEN {after} - {last} <= {max_gap} THEN {_meeting(last, after)} END, " \
           f"{last} + {max_gap // 2})"


def kept(relation: str, max_gap: int) -> str:
    """Step 5: the stays covering at least ``MIN_STAY``, timed again among themselves."""
    neighbours = f"""
        SELECT person, area_id, n, first_t, last_t, lag(last_t) OVER ({ORDER}) AS before_t,
               lead(first_t) OVER ({ORDER}) AS after_t
        FROM {relation} WHERE end_t - start_t >= {MIN_STAY}"""
    return f"""
    SELECT person, area_id, first_t, last_t, {_start('first_t', 'before_t', max_gap)} AS start_t,
           {_end('last_t', 'after_t', max_gap)} AS end_t
    FROM ({neighbours})
    """


def leaning_ctes(events: str, max_gap: int) -> list[tuple[str, str]]:
    """CTEs over ``events`` ending in ``stay_leans(person, area_id, target)`` (step 2's leaning), with
    ``stay_counts`` and ``stay_runs`` (step 1)."""
    return [
        ("stay_counts", counts(events)),
        ("stay_runs", runs(events, "stay_counts", max_gap)),
        ("stay_links", links("stay_runs")),
        ("stay_leans", leans("stay_links", "stay_counts")),
    ]


def leaned_events_ctes(events: str) -> list[tuple[str, str]]:
    """CTEs ending in ``leaned_events(person, t, area_id)``: the events of ``events``, each in the area its area
    leans on for its person (step 2), so a border place is on the side where most of their events are."""
    return [*leaning_ctes(events, LINK_SPLIT), ("leaned_events", f"""
        SELECT e.person, e.t, coalesce(l.target, e.area_id) AS area_id
        FROM {events} e LEFT JOIN stay_leans l ON l.person = e.person AND l.area_id = e.area_id""")]


def stays_ctes(max_gap: int) -> list[tuple[str, str]]:
    """CTEs ending in ``stays(person, area_id, first_t, last_t, start_t, end_t)``."""
    return [
        *leaning_ctes("events", max_gap),
        ("stay_leaned", leaned("stay_runs", "stay_leans", max_gap)),
        ("stay_returns", returns("stay_leaned", max_gap)),
        ("stay_episodes", episodes("stay_returns")),
        ("stay_pieces", episode_pieces("stay_episodes")),
        ("stay_timed", joined("stay_pieces", max_gap)),
        ("stays", kept("stay_timed", max_gap)),
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
