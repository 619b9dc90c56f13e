"""Creating releases as background jobs, and polling them.

The request body is generated from the indicators' parameter objects; the
values are parsed by the same dataclass parsers as the CLI's options before a
job is queued, so a bad parameter is refused at once with its message.
"""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Response

from popflow import indicators
from popflow.disclosure.request import PrivacyRequest
from popflow.indicators.params import from_text
from popflow.release import check_breakdowns
from popflow.service.auth import analyst, forbidden, service
from popflow.service.jobs import JOB_ID, expected_seconds
from popflow.service.schemas import ERRORS, PRIVACY_OPTIONS, Error, Job, parameter_values, release_request_model
from popflow.service.scope import check_levels, indicator_allowed, privacy_allowed, refusal
from popflow.service.tokens import Token

NOT_FOUND = {404: {"model": Error, "description": "no such job"}}
REFUSED = {400: {"model": Error, "description": "parameters refused (the message says why)"},
           403: {"model": Error, "description": "outside the token's role or scope (the message says which)"}}


def check_request(svc, token: Token, request) -> dict:
    """Parameters parsed by the indicator's dataclass, within the token's scope; returns run values.

    Every parameter that names an area level or another indicator is checked, nested ones too
    (see ``scope.refusal``): a bad value is refused with 400, one outside the scope with 403."""
    if not indicator_allowed(token, request.indicator):
        raise forbidden()
    values = parameter_values(request)
    params = from_text(indicators.get(request.indicator).params, values)  # PopflowError → 400
    levels = svc.areas.levels()
    check_levels(params, levels)
    check_breakdowns(svc.ws, params)  # PopflowError → 400
    reason = refusal(token, request.indicator, params, levels)
    if reason:
        raise HTTPException(403, reason)
    options = request.model_dump(include=PRIVACY_OPTIONS)
    options["privacy"] = options.get("privacy") or svc.ws.settings.default_privacy
    mode = PrivacyRequest.from_options(**options).mode  # PopflowError → 400, before any work
    if not privacy_allowed(token, mode, svc.ws.settings.default_privacy):
        raise HTTPException(403, f"outside this token's scope: privacy mode '{mode}' "
                                 f"(this token may use {', '.join(token.privacy_modes or ())})")
    return {"indicator": request.indicator, "params": values, "options": options}


def job_router() -> APIRouter:
    """The job routes; built when the app is made, so every registered indicator has its request model."""
    router = APIRouter(prefix="/api", responses=ERRORS, tags=["release jobs"])
    request_model = release_request_model(indicators.all_indicators())

    @router.post("/releases", status_code=202, response_model=Job, responses=REFUSED, summary="Create a release")
    def create_release(request: Annotated[request_model, Body()], response: Response,
                       token: Token = Depends(analyst), svc=Depends(service)):
        """Queue a release of one indicator (analysts within their scope, admins). It goes through
        the same disclosure control and audit as the CLI, with this token's name as "who".
        Poll ``/api/jobs/{id}`` until it is done, then fetch ``/api/releases/{release_id}``."""
        values = check_request(svc, token, request)
        if svc.jobs.pending(token.name) >= svc.config.max_pending:
            raise HTTPException(429, "too many release jobs waiting for this token", headers={"Retry-After": "5"})
        job = svc.jobs.submit(request.indicator, token.name, values,
                              expected_seconds(svc.releases.manifests(), request.indicator))
        response.headers["Location"] = f"/api/jobs/{job.id}"
        return job.view()

    @router.get("/jobs", response_model=list[Job], summary="List release jobs")
    def list_jobs(token: Token = Depends(analyst), svc=Depends(service)):
        """This token's release jobs (an admin sees everyone's), newest first."""
        return [j.view() for j in svc.jobs.listing(None if token.role == "admin" else token.name)]

    @router.get("/jobs/{job_id}", response_model=Job, responses=NOT_FOUND, summary="Poll a release job")
    def get_job(job_id: Annotated[str, Path(pattern=JOB_ID)], token: Token = Depends(analyst),
                svc=Depends(service)):
        """Status, estimated progress and, when done, the release id of one job."""
        job = svc.jobs.get(job_id)
        if job is None:
            raise HTTPException(404, "no such job")
        if token.role != "admin" and job.owner != token.name:
            raise forbidden()
        return job.view()

    return router


def run_release(ws):
    """The job body: ``Workspace.run`` with the token's name as the audit's "who"."""

    def run(job, values: dict) -> str:
        options = {k: v for k, v in values["options"].items() if v is not None}
        release = ws.run(values["indicator"], who=f"token:{job.owner}", **options, **values["params"])
        return release.manifest["release_id"]

    return run
