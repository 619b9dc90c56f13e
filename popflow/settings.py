"""Workspace settings stored in ``popflow.toml``.

Every setting has a default; unknown keys are refused so that a typo never
silently falls back to a default privacy parameter.
"""

from __future__ import annotations

import dataclasses
import datetime
import tomllib
import zoneinfo
from pathlib import Path

import tomli_w

from popflow.engines import engine_names
from popflow.errors import PopflowError

SETTINGS_FILE = "popflow.toml"
DEFAULT_ENGINE = "duckdb"  # in-process; every registered engine (``popflow.engines``) may be chosen
# Disclosure control of a release: k-anonymity, the cell key method, or differential privacy.
PRIVACY_MODES = ("k", "ckm", "dp")
FIRST_PLAUSIBLE_DATE = "2000-01-01"  # the default time_window starts here (local) and ends one day after now


@dataclasses.dataclass(frozen=True)
class Settings:
    """The settings of SPEC §1, with their defaults."""

    timezone: str = "UTC"
    home_mcc: tuple[str, ...] = ()
    k_anonymity: int = 15
    dominance: float = 0.5
    privacy_budget: float = 10.0  # ε per person per calendar month, over every person-level source together
    delta_budget: float = 1e-6  # δ per person per calendar month
    default_privacy: str = "k"  # the mode of a release that names none
    ckm_max_perturbation: int = 3  # ckm: largest change of a published count
    ckm_variance: float = 1.0  # ckm: variance of the perturbation
    engine: str = DEFAULT_ENGINE
    # Plausible event times: first and last local date, both included. None (the setting absent) means
    # 2000-01-01 to one day after the moment of ingest, evaluated at each ingest.
    time_window: tuple[str, str] | None = None

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
        if not 0 < self.delta_budget < 1e-3:
            raise PopflowError("delta_budget must be in (0, 0.001)")
        if self.default_privacy not in PRIVACY_MODES:
            raise PopflowError(f"default_privacy must be one of {', '.join(PRIVACY_MODES)}")
        if self.ckm_max_perturbation < 1:
            raise PopflowError("ckm_max_perturbation must be at least 1")
        widest = self.ckm_max_perturbation * (self.ckm_max_perturbation + 1) / 3  # variance of the uniform
        if not 0 < self.ckm_variance < widest:
            raise PopflowError(f"ckm_variance must be in (0, {widest:g}) for ckm_max_perturbation "
                               f"{self.ckm_max_perturbation}")
        if self.engine not in engine_names():
            raise PopflowError(f"engine must be one of {', '.join(engine_names())}")
        for mcc in self.home_mcc:
            if not (mcc.isdigit() and len(mcc) == 3):
                raise PopflowError(f"home_mcc '{mcc}' is not a 3-digit mobile country code")
        if self.time_window is not None:
            first, last = _window_dates(self.time_window)
            object.__setattr__(self, "time_window", (first.isoformat(), last.isoformat()))

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
        if self.time_window is None:
            del data["time_window"]  # the default moves with the clock, so it is not written down
        else:
            data["time_window"] = list(self.time_window)
        (workspace / SETTINGS_FILE).write_text(tomli_w.dumps(data))


def plausible_window(time_window: tuple[str, str] | None, timezone: str,
                     now: datetime.datetime | None = None) -> tuple[datetime.datetime, datetime.datetime]:
    """The plausible event times ``[first, end)`` of a ``time_window`` setting, as aware instants.

    A window of two local dates runs from the first date's midnight to the end of
    the last date, in the workspace time zone. No window (the default) runs from
    2000-01-01 local midnight to one day after ``now`` (default: the present).
    """
    zone = zoneinfo.ZoneInfo(timezone)
    if time_window is None:
        now = now or datetime.datetime.now(datetime.UTC)
        first = datetime.date.fromisoformat(FIRST_PLAUSIBLE_DATE)
        return datetime.datetime.combine(first, datetime.time(), zone), now + datetime.timedelta(days=1)
    first, last = _window_dates(time_window)
    return (datetime.datetime.combine(first, datetime.time(), zone),
            datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time(), zone))


def _window_dates(time_window) -> tuple[datetime.date, datetime.date]:
    """The first and last date of a ``time_window`` setting; a clear error when it is not two ISO dates."""
    usage = 'time_window must be two ISO dates, the first and last plausible local date, e.g. ["2000-01-01", ' \
            '"2030-12-31"] (leave it out for 2000-01-01 to one day after now)'
    if not isinstance(time_window, list | tuple) or len(time_window) != 2:
        raise PopflowError(usage)
    try:  # ISO text, or TOML dates written without quotes
        first, last = (d if isinstance(d, datetime.date) else datetime.date.fromisoformat(str(d))
                       for d in time_window)
    except ValueError:
        raise PopflowError(f"{usage}; got {list(time_window)}") from None
    if last < first:
        raise PopflowError(f"time_window ends ({last}) before it starts ({first})")
    if last.year >= 9999:
        raise PopflowError("time_window must end before the year 9999")
    return first, last
