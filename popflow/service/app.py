"""The popflow HTTP service: the API under ``/api``, OpenAPI at ``/docs``, the dashboard at ``/``.

``create_app(workspace)`` builds a FastAPI app around one workspace. Every
release it makes goes through ``Workspace.run``: the same disclosure control
and audit as the CLI, with the token's name as "who".
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse

from popflow import __version__, dashboard
from popflow.errors import PopflowError
from popflow.live.view import LiveView
from popflow.service import routes_admin, routes_live, routes_read
from popflow.service.areas import AreaCatalogue
from popflow.service.config import ServiceConfig
from popflow.service.jobs import JobRunner
from popflow.service.limits import BodyLimit, TokenBuckets
from popflow.service.release_store import ReleaseStore
from popflow.service.routes_jobs import job_router, run_release
from popflow.service.tokens import TokenStore
from popflow.workspace import Workspace

DESCRIPTION = """Aggregate, privacy-safe statistics of one popflow workspace.

Every call except `/api/health` needs `Authorization: Bearer <token>` (tokens
come from `popflow token create`). Viewers read published releases; analysts
also create releases within their indicators and area levels; admins may do
everything, including reading the audit log. Released tables hold published
cells only: a cell with fewer than k people is absent, never zero."""


@dataclass
class Service:
    """What the routes share: the workspace and the service's stores, jobs and limits."""

    ws: Workspace
    config: ServiceConfig
    tokens: TokenStore
    areas: AreaCatalogue
    releases: ReleaseStore
    jobs: JobRunner
    buckets: TokenBuckets
    live: LiveView


def make_service(workspace: Workspace, config: ServiceConfig) -> Service:
    areas = AreaCatalogue(workspace)
    return Service(ws=workspace, config=config, tokens=TokenStore(workspace.path), areas=areas,
                   releases=ReleaseStore(workspace, areas.geometries, config.cache_entries),
                   jobs=JobRunner(run_release(workspace), config.workers),
                   buckets=TokenBuckets(config.rate, config.burst), live=LiveView(workspace))


def create_app(workspace: Workspace | str | Path, config: ServiceConfig | None = None) -> FastAPI:
    """The FastAPI app serving one workspace."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    config = config or ServiceConfig()
    svc = make_service(ws, config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        svc.jobs.shutdown()

    app = FastAPI(title="popflow", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.service = svc
    for router in (routes_read.router, routes_live.router, job_router(), routes_admin.router):
        app.include_router(router)
    app.add_exception_handler(PopflowError, _refused)
    add_docs(app)
    dashboard.mount(app)
    app.middleware("http")(security_headers)
    if config.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(BodyLimit, max_body=config.max_body)
    return app


async def _refused(request: Request, exc: PopflowError) -> JSONResponse:
    """A user-facing refusal (bad parameter, unknown level, …) as 400 with its message."""
    return JSONResponse({"detail": str(exc)}, status_code=400)


def add_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs``, its script and style served from the package (no CDN)."""

    @app.get("/docs", include_in_schema=False)
    def docs():
        vendor = "/static/vendor/swagger-ui"
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="popflow API",
                                   swagger_js_url=f"{vendor}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{vendor}/swagger-ui.css",
                                   swagger_favicon_url=f"{vendor}/favicon-32x32.png")


CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'none'")


async def security_headers(request: Request, call_next):
    """No sniffing, no framing, no referrer; API answers are not cached; pages get a strict CSP."""
    response = await call_next(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.url.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
    elif request.url.path != "/docs":
        response.headers.setdefault("Content-Security-Policy", CSP)
    return response
