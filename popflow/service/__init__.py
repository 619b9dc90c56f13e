"""popflow's HTTP service (``popflow serve``): an authenticated API and the offline dashboard.

Install with the ``serve`` extra. ``create_app(workspace)`` gives the FastAPI
app; ``popflow.service.commands`` holds the ``serve`` and ``token`` commands.
Importing this package (or the commands) does not import FastAPI, so the CLI
works without the extra until ``popflow serve`` is run.
"""

from __future__ import annotations

__all__ = ["create_app", "ServiceConfig"]


def __getattr__(name: str):
    if name == "create_app":
        from popflow.service.app import create_app

        return create_app
    if name == "ServiceConfig":
        from popflow.service.config import ServiceConfig

        return ServiceConfig
    raise AttributeError(name)
