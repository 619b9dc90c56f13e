"""Workspace settings stored in ``popflow.toml``.

Every setting has a default; unknown keys are refused so that a typo never
silently falls back to a default privacy parameter.
"""

from __future__ import annotations

import dataclasses
import tomllib
import zoneinfo
from pathlib import Path

import tomli_w

from popflow.errors import PopflowError

SETTINGS_FILE = "popflow.toml"
ENGINES = ("duckdb", "spark")


@dataclasses.dataclass(frozen=True)
class Settings:
    """The settings of SPEC §1, with their defaults."""

    timezone: str = "UTC"
    home_mcc: tuple[str, ...] = ()
    k_anonymity: int = 15
    dominance: float = 0.5
    privacy_budget: float = 10.0
    engine: str = "duckdb"

    def __post_init__(self):
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise PopflowError(f"unknown time zone '{self.timezone}' (use an IANA name)") from exc
        if self.k_anonymity < 2:
            raise PopflowError("k_anonymity must be at least 2")
        if not 0 < self.dominance <= 1:
            raise PopflowError("dominance must be in (0, 1]")
        if self.privacy_budget <= 0:
            raise PopflowError("privacy_budget must be positive")
        if self.engine not in ENGINES:
            raise PopflowError(f"engine must be one of {', '.join(ENGINES)}")
        for mcc in self.home_mcc:
            if not (mcc.isdigit() and len(mcc) == 3):
                raise PopflowError(f"home_mcc '{mcc}' is not a 3-digit mobile country code")

    @classmethod
    def load(cls, workspace: Path) -> Settings:
        """Read ``popflow.toml`` of a workspace."""
        path = workspace / SETTINGS_FILE
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise PopflowError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
        if "home_mcc" in raw:
            raw["home_mcc"] = tuple(str(m) for m in raw["home_mcc"])
        return cls(**raw)

    def save(self, workspace: Path) -> None:
        """Write ``popflow.toml``."""
        data = dataclasses.asdict(self)
        data["home_mcc"] = list(self.home_mcc)
        (workspace / SETTINGS_FILE).write_text(tomli_w.dumps(data))
