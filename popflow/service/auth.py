"""Bearer-token authentication, roles and the per-token rate limit, as FastAPI dependencies.

401 for a missing, unknown, expired or revoked token; 403 for a request outside
the token's role or scope; 429 past the rate limit. Bodies say no more than
that, so a refusal reveals nothing about the data.
"""

from __future__ import annotations

import math

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from popflow.service.tokens import Token

bearer = HTTPBearer(auto_error=False, description="an API token from `popflow token create`")

UNAUTHORIZED = "missing, invalid, expired or revoked token"
FORBIDDEN = "outside this token's role or scope"


async def service(request: Request):
    """The running service's state (workspace, token store, jobs, release store, limits)."""
    return request.app.state.service


def _throttle(svc, key: str) -> None:
    wait = svc.buckets.take(key)
    if wait:
        raise HTTPException(429, "too many requests", headers={"Retry-After": str(max(1, math.ceil(wait)))})


async def caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Token:
    """The token making the request; failures are rate-limited per client address too.

    Runs on the event loop (a stat of the token file and a hash: no thread hop per request)."""
    svc = request.app.state.service
    token = svc.tokens.authenticate(credentials.credentials if credentials else None)
    if token is None:
        host = request.client.host if request.client else "unknown"
        _throttle(svc, f"unauthenticated:{host}")
        raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
    _throttle(svc, f"token:{token.name}")
    return token


def forbidden() -> HTTPException:
    return HTTPException(403, FORBIDDEN)


async def analyst(token: Token = Depends(caller)) -> Token:
    """An analyst or admin token (may create releases, see jobs and the budget)."""
    if token.role not in ("analyst", "admin"):
        raise forbidden()
    return token


async def admin(token: Token = Depends(caller)) -> Token:
    """An admin token (may read the audit log)."""
    if token.role != "admin":
        raise forbidden()
    return token
