"""Health, the calling token, the privacy budget and the audit log (admins only)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from popflow import audit
from popflow.service.auth import admin, analyst, caller, service
from popflow.service.schemas import ERRORS, Caller
from popflow.service.tokens import Token
from popflow.workspace import AUDIT_FILE

router = APIRouter(prefix="/api", responses=ERRORS, tags=["service, budget and audit"])


class Health(BaseModel):
    status: str


class BudgetRow(BaseModel):
    month: str
    epsilon_spent: float
    delta_spent: float
    epsilon_remaining: float


class Budget(BaseModel):
    limit_per_month: float
    delta_limit_per_month: float
    rows: list[BudgetRow]


class AuditPage(BaseModel):
    total: int
    records: list[dict[str, Any]]


class AuditCheck(BaseModel):
    lines: int
    first_bad_line: int | None
    intact: bool


@router.get("/health", response_model=Health, responses={}, summary="Liveness")
def health():
    """Whether the service is up; needs no token and says nothing else."""
    return {"status": "ok"}


@router.get("/me", response_model=Caller, summary="The calling token")
def me(token: Token = Depends(caller)):
    """The calling token's name, role and scope (never the token itself)."""
    return {"name": token.name, "role": token.role, "indicators": list(token.indicators or []) or None,
            "min_level": token.min_level, "expires_at": token.expires_at,
            "privacy_modes": list(token.privacy_modes) if token.privacy_modes else None}


@router.get("/budget", response_model=Budget, summary="Privacy budget")
def budget(token: Token = Depends(analyst), svc=Depends(service)):
    """ε and δ spent and ε remaining per source and month (differential-privacy releases)."""
    ledger = svc.ws.budget()
    return {"limit_per_month": ledger.limit, "delta_limit_per_month": ledger.delta_limit, "rows": ledger.rows()}


@router.get("/audit", response_model=AuditPage, summary="Audit log (admins)")
def audit_log(limit: Annotated[int, Query(ge=1, le=10_000)] = 100, offset: Annotated[int, Query(ge=0)] = 0,
              token: Token = Depends(admin), svc=Depends(service)):
    """Audit records, newest first: who released what, when, with which parameters and privacy cost."""
    records = audit.read(svc.ws.path / AUDIT_FILE)[::-1]
    return {"total": len(records), "records": records[offset:offset + limit]}


@router.get("/audit/verify", response_model=AuditCheck, summary="Check the audit chain (admins)")
def audit_verify(token: Token = Depends(admin), svc=Depends(service)):
    """Whether the audit log's hash chain is intact, and its first bad line if not."""
    lines, bad = audit.verify(svc.ws.path / AUDIT_FILE)
    return {"lines": lines, "first_bad_line": bad, "intact": bad is None}
