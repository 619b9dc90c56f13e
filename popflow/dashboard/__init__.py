"""The offline web dashboard: one page with a map, flows, breakdowns and releases.

Every script, style and font is served from ``static/`` by popflow itself
(``static/vendor/`` holds pinned copies of npm packages; see its NOTICE), so
the dashboard works with no internet and no base-map tiles: the areas are the map.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"

mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("font/woff2", ".woff2")


def mount(app: FastAPI) -> None:
    """Serve the dashboard page at ``/`` and its files under ``/static``."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")
