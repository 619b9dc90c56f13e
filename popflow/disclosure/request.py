"""What a release asks of disclosure control, and the mechanism that answers it."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from dataclasses import dataclass

from popflow.disclosure.cell_key import CellKeyMethod
from popflow.disclosure.differential_privacy import DifferentialPrivacy
from popflow.disclosure.k_anonymity import KAnonymity
from popflow.errors import PopflowError
from popflow.indicators.params import (
    from_text,
    option,
    option_name,
    parse_choice,
    parse_number,
    parse_whole_number,
)
from popflow.pseudonymise import load_key
from popflow.settings import PRIVACY_MODES


@dataclass(frozen=True)
class PrivacyRequest:
    """The disclosure-control options of a release; the CLI's and Python's options are generated from them."""

    mode: str = option("k", "--privacy", "k: suppress cells under k people; ckm: also perturb each cell by its "
                       "cell key; dp: differential privacy", parse_choice(*PRIVACY_MODES), "default_privacy")
    epsilon: float | None = option(None, "--epsilon", "dp: privacy loss ε of this release", parse_number,
                                   limits=(0.001, 100))
    delta: float = option(1e-7, "--delta", "dp: δ for data-dependent keys", limits=(1e-12, 1e-4))
    max_contrib: int | None = option(None, "--max-contrib", "dp: cells kept per person per table",
                                     parse_whole_number, "one per time slot, at most 24", limits=(1, 1000))
    max_value: int = option(5, "--max-value", "dp: clip each person's summed measure per cell to this",
                            limits=(1, 1000))

    @classmethod
    def from_options(cls, **values) -> PrivacyRequest:
        """A request from options named as the CLI's (``privacy``, ``epsilon``, ``max_contrib``…), as text or
        typed values (None means the default), each checked against its range."""
        names = {option_name(f): f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - set(names)
        if unknown:
            raise PopflowError(f"unknown privacy option(s): {', '.join(sorted(unknown))}")
        return from_text(cls, {names[k]: v for k, v in values.items()})

    def __post_init__(self):
        if self.mode == "dp" and self.epsilon is None:
            raise PopflowError("--privacy dp needs --epsilon")
        if self.mode != "dp" and self.epsilon is not None:
            raise PopflowError("--epsilon applies to --privacy dp only")

    def mechanism(self, ws, indicator_name: str, tables: int):
        """The mechanism for this request, with settings from the workspace."""
        settings = ws.settings
        if self.mode == "k":
            return KAnonymity(settings.k_anonymity, settings.dominance)
        if self.mode == "ckm":
            if settings.ckm_max_perturbation >= settings.k_anonymity:
                raise PopflowError(f"--privacy ckm needs k_anonymity ({settings.k_anonymity}) above "
                                   f"ckm_max_perturbation ({settings.ckm_max_perturbation})")
            return CellKeyMethod(settings.k_anonymity, settings.dominance, settings.ckm_max_perturbation,
                                 settings.ckm_variance, salt=_derived_salt(ws, "record-key"))
        return DifferentialPrivacy(self.epsilon, self.delta, self.max_contrib, self.max_value,
                                   salt=bounding_salt(ws, indicator_name), tables=tables)


def bounding_salt(ws, indicator_name: str) -> str:
    """A secret, per-indicator salt for the contribution-bounding sample (derived from the key)."""
    return _derived_salt(ws, f"contribution-bound|{indicator_name}")


def _derived_salt(ws, purpose: str) -> str:
    """A secret salt for one purpose, derived from the workspace key."""
    return hmac.new(load_key(ws.path), purpose.encode(), hashlib.sha256).hexdigest()[:32]
