"""What a release asks of disclosure control, and the mechanism that answers it."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from popflow.disclosure.differential_privacy import DifferentialPrivacy
from popflow.disclosure.k_anonymity import KAnonymity
from popflow.errors import PopflowError
from popflow.pseudonymise import load_key

MODES = ("k", "dp")


@dataclass(frozen=True)
class PrivacyRequest:
    """``--privacy``, ``--epsilon``, ``--delta``, ``--max-contrib``, ``--max-value``."""

    mode: str = "k"
    epsilon: float | None = None
    delta: float = 1e-7
    max_contrib: int | None = None
    max_value: int = 5

    def __post_init__(self):
        if self.mode not in MODES:
            raise PopflowError(f"--privacy must be one of {', '.join(MODES)}")
        if self.mode == "dp" and self.epsilon is None:
            raise PopflowError("--privacy dp needs --epsilon")
        if self.mode == "k" and self.epsilon is not None:
            raise PopflowError("--epsilon applies to --privacy dp only")

    def mechanism(self, ws, indicator_name: str, tables: int):
        """The mechanism for this request, with settings from the workspace."""
        if self.mode == "k":
            return KAnonymity(ws.settings.k_anonymity, ws.settings.dominance)
        return DifferentialPrivacy(self.epsilon, self.delta, self.max_contrib, self.max_value,
                                   salt=bounding_salt(ws, indicator_name), tables=tables)


def bounding_salt(ws, indicator_name: str) -> str:
    """A secret, per-indicator salt for the contribution-bounding sample (derived from the key)."""
    key = load_key(ws.path)
    return hmac.new(key, f"contribution-bound|{indicator_name}".encode(), hashlib.sha256).hexdigest()[:32]
