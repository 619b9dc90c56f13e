"""The live view over HTTP: the latest published snapshot, and server-sent events as new ones are published.

Both read what the running stream published (``LiveView``), so the cells are
published exactly as in ``popflow stream`` and the Python API, in the
workspace's default privacy mode. A token may read the live view when its
scope allows ``present-population`` at the level asked for and its privacy
modes allow the mode the snapshot was published in (``privacy_allowed``, as
for a release; before any snapshot, the workspace's default). The event
stream polls the snapshot's version on the event loop (a ``stat``) and reads
each new snapshot in a worker thread, so waiting clients cost no thread; it
re-checks the token before every event (and the mode of every snapshot), so
a revoked or expired token stops receiving at once.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from popflow.indicators.params import parse_breakdowns, parse_level
from popflow.live.view import snapshot_privacy
from popflow.service.auth import bearer, caller, forbidden, service
from popflow.service.schemas import ERRORS, Error, LiveSnapshotModel
from popflow.service.scope import indicator_allowed, level_allowed, privacy_allowed
from popflow.service.tokens import Token

INDICATOR = "present-population"  # what the live view publishes: people present per bin × area
NO_STREAM = "no live stream has published a snapshot yet"
router = APIRouter(prefix="/api", responses=ERRORS, tags=["live view"])
RESPONSES = {400: {"model": Error, "description": "parameters refused (the message says why)"},
             404: {"model": Error, "description": NO_STREAM}}
EVENT_RESPONSES = {**RESPONSES, 200: {"description": "one `data:` line of snapshot JSON per published snapshot",
                                      "content": {"text/event-stream": {"schema": {"type": "string"}}}}}

Level = Annotated[str | None, Query(max_length=64, description="area level (default: the finest areas)")]
By = Annotated[str, Query(max_length=200, description="breakdowns, e.g. gender,age_band (default: none)")]
Bin = Annotated[Literal["latest"] | None, Query(description="`latest`: the newest bin only (default: every bin)")]


class LiveRequest:
    """The validated query of a live call, within the caller's scope."""

    def __init__(self, level: Level = None, by: By = "", bin: Bin = None,
                 token: Token = Depends(caller), svc=Depends(service)):
        self.level, self.by, self.bin = parse_level(level), parse_breakdowns(by), bin
        if not indicator_allowed(token, INDICATOR) or not level_allowed(token, self.level, svc.areas.levels()):
            raise forbidden()
        self.view, self.token, self.default_mode = svc.live, token, svc.ws.settings.default_privacy
        self.clock = svc.config.event_clock
        mode = self.view.privacy_mode() or self.default_mode
        if not self.mode_allowed(mode):
            raise HTTPException(403, f"the live view is published in {mode} mode, which this token may not read")

    def mode_allowed(self, mode: str) -> bool:
        return privacy_allowed(self.token, mode, self.default_mode)

    def snapshot_json(self) -> dict:
        """The snapshot as JSON, its ``lag_seconds`` measured now against the service's event clock, whose
        event seconds per wall-clock second are ``clock_rate``."""
        body = self.view.snapshot(self.bin, self.by, self.level).to_json()
        newest, fresh = body["freshness"].get("newest_event"), body["freshness"]
        if newest:
            fresh["lag_seconds"] = round(self.clock.now() - datetime.datetime.fromisoformat(newest).timestamp())
            fresh["clock_rate"] = self.clock.rate
        return body

    def published(self) -> int:
        """The current snapshot's version; 404 before any stream published one."""
        version = self.view.version()
        if version is None:
            raise HTTPException(404, NO_STREAM)
        return version


@router.get("/live", response_model=LiveSnapshotModel, responses=RESPONSES, summary="The live view")
async def get_live(query: LiveRequest = Depends()):
    """The latest published live snapshot: people present per bin × area (× breakdowns), published in the
    workspace's default privacy mode (k-suppressed; in ckm also perturbed), with its freshness (publication
    time, lag of the newest event behind the event clock at the time of asking — the wall clock, or a replay's
    clock in `popflow demo --live` —, bins and whether they are final, the privacy mode)."""
    query.published()
    return await run_in_threadpool(query.snapshot_json)


@router.get("/live/events", response_class=StreamingResponse, responses=EVENT_RESPONSES,
            summary="The live view as server-sent events")
async def live_events(request: Request, query: LiveRequest = Depends(),
                      credentials: HTTPAuthorizationCredentials | None = Depends(bearer), svc=Depends(service)):
    """Server-sent events: the current snapshot at once, then each newly published one, as
    `data: <JSON as from /api/live>`; a `: keep-alive` comment when nothing changed for a while."""
    query.published()
    raw = credentials.credentials if credentials else None
    still_valid = lambda: svc.tokens.authenticate(raw) is not None  # noqa: E731
    events = snapshot_events(query, request, still_valid, svc.config.live_poll, svc.config.live_keepalive)
    return StreamingResponse(events, media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})


async def snapshot_events(query: LiveRequest, request: Request, still_valid, poll: float,
                          keepalive: float) -> AsyncIterator[str]:
    """Each new snapshot as one event, keep-alive comments in between; ends when the client or token goes."""
    seen, quiet_since = None, time.monotonic()
    while not await request.is_disconnected() and still_valid():
        version = query.view.version()
        if version is not None and version != seen:
            seen = version
            body = await run_in_threadpool(query.snapshot_json)
            if not query.mode_allowed(snapshot_privacy(body["freshness"])):
                return  # the stream was restarted in a mode this token may not read
            yield f"data: {json.dumps(body, separators=(',', ':'))}\n\n"
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= keepalive:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(poll)
