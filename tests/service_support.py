"""What the service tests share: the callers every endpoint refuses with 401."""

from __future__ import annotations

import datetime

from popflow.service.tokens import TokenStore

PAST = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)


def refused_callers(store: TokenStore) -> dict[str, str | None]:
    """No token, a malformed one, an expired admin's and a revoked admin's."""
    callers = {
        "expired": store.create("old", "admin", expires_at=PAST)[0],
        "revoked": store.create("gone", "admin")[0],
        "bad": "pf_" + "x" * 43,
        "none": None,
    }
    store.revoke("gone")
    return callers
