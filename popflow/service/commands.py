"""The ``popflow serve`` command and the ``popflow token`` group (register both in the CLI).

``token create`` prints the raw token once; only its SHA-256 is stored, in
``<workspace>/tokens.json`` (mode 0600).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding

from popflow import indicators
from popflow.errors import PopflowError
from popflow.service.config import ServiceConfig
from popflow.service.scope import level_order
from popflow.service.tokens import ROLES, TokenStore
from popflow.workspace import Workspace

stdout = Console()
workspace_option = click.option(
    "--workspace", "-w", type=click.Path(path_type=Path), default=None, envvar="POPFLOW_WORKSPACE",
    help="workspace folder (default ./popflow-workspace or $POPFLOW_WORKSPACE)",
)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", type=int, default=8000, show_default=True, help="port to listen on")
@click.option("--workers", type=click.IntRange(1, 16), default=1, show_default=True,
              help="release jobs computed at the same time")
@click.option("--rate-limit", type=click.FloatRange(0.1, 100_000), default=50.0, show_default=True,
              help="requests per second per token")
@click.option("--burst", type=click.IntRange(1, 100_000), default=100, show_default=True,
              help="requests a token may make at once")
@click.option("--max-body", type=click.IntRange(1024, 16 * 1024 * 1024), default=64 * 1024, show_default=True,
              help="largest request body in bytes")
@click.option("--cors-origin", multiple=True, help="a browser origin allowed to call the API (CORS is off by default)")
@click.option("--no-access-log", is_flag=True, help="do not log requests")
@workspace_option
def serve(host, port, workers, rate_limit, burst, max_body, cors_origin, no_access_log, workspace):
    """Serve the HTTP API (OpenAPI at /docs) and the dashboard (at /)."""
    from popflow.service.server import serve as run_server

    ws = Workspace(workspace)
    config = ServiceConfig(rate=rate_limit, burst=burst, max_body=max_body, workers=workers,
                           cors_origins=tuple(cors_origin))
    if not TokenStore(ws.path).tokens():
        stdout.print("no API tokens yet: create one with 'popflow token create --name NAME --role admin'")
    stdout.print(f"popflow serving {ws.path} at http://{host}:{port}/ (API docs at /docs)")
    run_server(ws, host=host, port=port, config=config, access_log=not no_access_log)


@click.group()
def token():
    """Create, list and revoke API tokens."""


@token.command("create")
@click.option("--name", default=None,
              help="who or what uses the token (recorded as 'who' in the audit log) [default: ROLE-N, e.g. analyst-1]")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="viewer: read releases; analyst: also create them; admin: everything")
@click.option("--indicators", "indicator_list", default=None, help="comma-separated indicators the token may use")
@click.option("--min-level", default=None, help="finest area level the token may use (e.g. city)")
@click.option("--privacy-modes", default=None,
              help="comma-separated privacy modes the token may use and read (k, ckm, dp); default: any for an "
                   "analyst, the workspace default_privacy or safer for a viewer")
@click.option("--expires", type=click.FloatRange(min=0, min_open=True), default=None,
              help="days until the token expires (default: never)")
@workspace_option
def create(name, role, indicator_list, min_level, privacy_modes, expires, workspace):
    """Create a token and print it once (only its hash is stored); named ROLE-N (e.g. analyst-1) without --name."""
    ws = Workspace(workspace)
    chosen = _indicators(indicator_list)
    if min_level is not None and min_level not in level_order(ws.area_rows()):
        raise PopflowError(f"--min-level {min_level}: not an area level of this workspace "
                           f"(levels: {', '.join(level_order(ws.area_rows())) or 'none yet'})")
    expires_at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=expires) if expires else None
    modes = tuple(m.strip() for m in privacy_modes.split(",") if m.strip()) if privacy_modes else None
    store = TokenStore(ws.path)
    raw, record = store.create(name or store.unused_name(role), role, chosen, min_level, expires_at, modes)
    stdout.print(f"token '{record.name}' ({record.role}) created. It is shown only this once; keep it secret:")
    click.echo(raw)


def _indicators(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    for name in names:
        indicators.get(name)  # refuses an unknown indicator with the list of known ones
    return names or None


@token.command("list")
@workspace_option
def list_tokens(workspace):
    """List tokens: name, role, status and scope, one token per block (never the tokens themselves)."""
    ws = Workspace(workspace)
    tokens = TokenStore(ws.path).tokens()
    if not tokens:
        stdout.print(f"no tokens in {ws.path}")
    for t in tokens:
        scope = (f"indicators {', '.join(t.indicators) if t.indicators else 'all'} · min level {t.min_level or 'any'}"
                 f" · privacy {', '.join(t.privacy_modes) if t.privacy_modes else 'default'}"
                 f" · created {t.created_at[:10]} · expires {(t.expires_at or 'never')[:10]}")
        stdout.print(f"{escape(t.name)}  {t.role}, {t.status()}", highlight=False, overflow="ignore", crop=False)
        stdout.print(Padding(scope, (0, 0, 0, 2)), highlight=False)


@token.command("revoke")
@click.argument("name")
@workspace_option
def revoke(name, workspace):
    """Revoke a token: it is refused from the next request on."""
    ws = Workspace(workspace)
    TokenStore(ws.path).revoke(name)
    stdout.print(f"token '{name}' revoked")
