"""A package of releases run in one engine session, each shared building block computed once.

``publish`` runs the releases of a ``Plan`` in order in one ``ReleaseSession``
whose shared blocks (stays, night locations, homes, workplaces…) are chosen
from all the plan's contributions (``shared_blocks.choose_shared``). Each
release is still a whole release of its own (``release.make_release``): its
own cells, disclosure control, files, manifest, audit line and, in dp, budget
charge, with the tables it would have alone.

A release that fails leaves nothing (``make_release``'s guarantee); the
releases before it stay published (each is complete and audited), and the
ones after it are not run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from popflow import indicators
from popflow.engines import open_engine
from popflow.errors import PopflowError
from popflow.geography import level_map
from popflow.indicators.params import from_text, parse_level
from popflow.plan import Plan, PlannedRelease
from popflow.release import Release, make_release, planned_cost, watched_params
from popflow.release_session import ReleaseSession
from popflow.shared_blocks import choose_shared


def publish(ws, plan: Plan, engine: str | None = None, who: str | None = None,
            engine_options: dict | None = None,
            done: Callable[[PlannedRelease, Release], None] | None = None) -> list[Release]:
    """Run every release of ``plan`` in one engine session; ``done`` hears of each as it is published.

    Area levels are checked against the workspace's areas, and in dp mode the privacy budget against what
    the whole package would charge, before any release runs.
    """
    _check_levels(ws, plan)
    released: list[Release] = []
    eng = open_engine(engine or ws.settings.engine, ws, **(engine_options or {}))
    with ReleaseSession(eng, choose_shared(contribution_sql(plan))) as session:
        _check_budget(ws, plan, session)
        for planned in plan.releases:
            if planned.out is not None:
                planned.out.parent.mkdir(parents=True, exist_ok=True)
        for planned in plan.releases:
            try:
                release = make_release(ws, planned.indicator, planned.params, planned.out, planned.privacy,
                                       who=who, session=session)
            except PopflowError as exc:
                raise PopflowError(f"{planned.where} ({planned.label}): {exc} ({_outcome(plan, len(released))})"
                                   ) from None
            released.append(release)
            if done:
                done(planned, release)
    return released


def _check_levels(ws, plan: Plan) -> None:
    """Refuse a plan naming an area level (``--level``, ``--origin-level``) the workspace's areas do not have."""
    rows = ws.area_rows()
    for planned in plan.releases:
        fields = dataclasses.fields(indicators.get(planned.indicator).params)
        for f in fields:
            value = planned.params.get(f.name)
            if f.metadata["parse"] is parse_level and value is not None:
                try:
                    level_map(rows, str(value))
                except PopflowError as exc:
                    raise PopflowError(f"{planned.where} ({planned.label}): {f.metadata['flag']} {value}: "
                                       f"{exc}") from None


def _check_budget(ws, plan: Plan, session) -> None:
    """Refuse a package whose dp releases would together spend more of a month's budget than is left, so it
    stops before its first release rather than part-way (each release is still checked and charged alone)."""
    needs: dict[str, tuple[float, float]] = {}
    for planned in plan.releases:
        try:
            cost = planned_cost(session, planned.indicator, planned.params, planned.privacy)
        except PopflowError as exc:
            raise PopflowError(f"{planned.where} ({planned.label}): {exc} (nothing was run)") from None
        for month in cost[0] if cost else ():
            epsilon, delta = needs.get(month, (0.0, 0.0))
            needs[month] = (epsilon + cost[1], delta + cost[2])
    if needs:
        ws.budget().check_needs(needs, f"this package ({len(plan.releases)} releases)")


def contribution_sql(plan: Plan) -> list[str]:
    """The SQL of every contribution the plan's releases compute (a derived release: its watched indicator's)."""
    statements = []
    for planned in plan.releases:
        indicator = indicators.get(planned.indicator)
        p = from_text(indicator.params, planned.params)
        if indicator.derive:
            handed_on = watched_params(p)
            indicator = indicators.get(p.indicator)
            p = from_text(indicator.params, handed_on)
        statements += [c.sql for c in indicator.define(p)]
    return statements


def _outcome(plan: Plan, published: int) -> str:
    """What a failed release leaves of its package."""
    left = len(plan.releases) - published - 1
    return (f"this release left nothing; {published} release(s) before it stay published, "
            f"{left} after it not run")
