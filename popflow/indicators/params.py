"""Typed parameter objects of indicators.

Each field carries its command-line flag, help text and a parser from text,
so that the CLI, the HTTP request schema and the documentation are generated
from the same declaration.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import re
from typing import Any

from popflow.columns import BREAKDOWNS
from popflow.errors import PopflowError

_DURATION = re.compile(r"^(\d+)\s*(s|min|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "min": 60, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """Seconds in a duration such as ``15min``, ``1h`` or ``1d``."""
    match = _DURATION.match(str(text).strip())
    if not match:
        raise PopflowError(f"'{text}' is not a duration (examples: 15min, 1h, 1d)")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def duration_text(seconds: float) -> str:
    """A number of seconds in the largest unit that holds it whole: ``172800`` is ``2d``, ``5400`` is ``90min``."""
    return next(f"{seconds // size:g}{unit}" for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))
                if seconds % size == 0 or size == 1)


def parse_bin(text: str) -> int:
    """A bin length in seconds that divides a day, so bins align to local midnight."""
    seconds = parse_duration(text)
    if seconds < 60 or 86400 % seconds:
        raise PopflowError(f"--bin {text}: a bin must be at least 1 minute and divide 24 hours evenly")
    return seconds


def parse_date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(text))
    except ValueError as exc:
        raise PopflowError(f"'{text}' is not a date (YYYY-MM-DD)") from exc


def parse_breakdowns(text: str | tuple) -> tuple[str, ...]:
    """Breakdown columns from ``gender,age_band``; unknown names are refused."""
    names = tuple(n.strip() for n in (text.split(",") if isinstance(text, str) else text) if n.strip())
    for name in names:
        if name not in BREAKDOWNS:
            raise PopflowError(f"--by {name}: breakdowns are {', '.join(BREAKDOWNS)}")
    if len(set(names)) != len(names):
        raise PopflowError("--by lists a breakdown twice")
    return names


def parse_whole_number(text: str) -> int:
    """A whole number; its range is the field's ``limits``."""
    try:
        return int(str(text).strip())
    except (TypeError, ValueError) as exc:
        raise PopflowError(f"'{text}' is not a whole number") from exc


def parse_level(text: str | None) -> str | None:
    if text is None:
        return None
    if not re.fullmatch(r"[\w\- ]{1,64}", str(text)):
        raise PopflowError(f"--level '{text}' is not an area level name")
    return str(text)


def parse_choice(*choices: str):
    """A parser accepting one of ``choices``."""

    def parse(text: str) -> str:
        if text not in choices:
            raise PopflowError(f"'{text}' is not one of {', '.join(choices)}")
        return text

    return parse


@dataclasses.dataclass(frozen=True)
class Limits:
    """The inclusive range of a numeric parameter, in the unit its help names (a duration's in durations)."""

    low: float
    high: float
    duration: bool = False

    def check(self, flag: str, value: float) -> None:
        if not self.low <= value <= self.high:
            shown = duration_text(value) if self.duration else value
            raise PopflowError(f"{flag} {shown}: must be between {self.text()}")

    def text(self) -> str:
        if self.duration:
            return f"{duration_text(self.low)} and {duration_text(self.high)}"
        return f"{self.low:g} and {self.high:g}"


def option(default: Any, flag: str, help: str, parse=None, shown: str | None = None,
           limits: tuple[float, float] | None = None, unit: str | None = None):
    """A parameter field with its CLI flag, help, parser and, for numbers, its range and unit (``s``, ``h``)."""
    if limits is not None and parse is None:
        parse = parse_whole_number if isinstance(default, int) else parse_number
    duration = parse in (parse_duration, parse_bin)
    return dataclasses.field(default=default, metadata={
        "flag": flag, "help": help, "parse": parse, "shown": shown,
        "limits": Limits(*limits, duration=duration) if limits is not None else None,
        "unit": "s" if duration else unit})


def option_name(f: dataclasses.Field) -> str:
    """The name of a field's option in Python keywords and HTTP requests: its flag without dashes (--max-contrib:
    max_contrib)."""
    return f.metadata["flag"].lstrip("-").replace("-", "_")


def parse_field(f: dataclasses.Field, value: Any) -> Any:
    """A field's value from text or a typed value: parsed, then checked against its range.

    Every error names the field's flag, so the CLI, Python and HTTP say the same thing.
    """
    parse, limits, flag = f.metadata.get("parse"), f.metadata.get("limits"), f.metadata["flag"]
    try:
        parsed = parse(value) if parse else value
    except PopflowError as exc:
        message = str(exc)
        raise PopflowError(message if message.startswith(flag) else f"{flag}: {message}") from None
    if limits is not None and parsed is not None:
        limits.check(flag, parsed)
    return parsed


def from_text(cls, values: dict[str, Any]):
    """Build a parameter object from raw values (text or typed), refusing unknown names."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(fields)
    if unknown:
        flags = ", ".join(sorted(unknown))
        raise PopflowError(f"parameter(s) not accepted by this indicator: {flags}")
    parsed = {name: None if value is None else parse_field(fields[name], value) for name, value in values.items()}
    return cls(**{name: value for name, value in parsed.items() if value is not None})


def to_json(params) -> dict:
    """Parameters as JSON-friendly values (for manifests and the audit log)."""
    out = {}
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        out[f.name] = value.isoformat() if isinstance(value, datetime.date) else (
            list(value) if isinstance(value, tuple) else value)
    return out


@dataclasses.dataclass(frozen=True)
class Dated:
    """Options every indicator takes: the window of local dates."""

    date_from: datetime.date | None = option(None, "--from", "first local date, inclusive", parse_date)
    date_to: datetime.date | None = option(None, "--to", "last local date, inclusive", parse_date)

    def __post_init__(self):
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise PopflowError("--from is after --to")


@dataclasses.dataclass(frozen=True)
class Window(Dated):
    """Options of indicators over areas, with breakdowns."""

    level: str | None = option(None, "--level", "area level (default: the finest)", parse_level)
    by: tuple[str, ...] = option((), "--by", "breakdowns, comma-separated: gender, age_band, origin_region",
                                 parse_breakdowns)


def method_option():
    """``--method``: where a person is read from, their stays (the default) or their observed bin locations."""
    return option("stays", "--method", "where a person is: stays (timeline of stays and moves) or observed (bin "
                  "locations)", parse_choice("stays", "observed"))


def max_gap_option():
    """``--max-gap``: the longest silence a stay lasts through."""
    return option(43_200, "--max-gap", "longest silence a stay lasts through, a duration",
                  parse_duration, "12h", limits=(3600, 172_800))


@dataclasses.dataclass(frozen=True)
class Binned(Window):
    """Options of indicators built on stays or on bin locations (``--method``)."""

    bin: int = option(3600, "--bin", "bin length (divides 24 h, at least 1min), aligned to local midnight",
                     parse_bin, "1h")
    carry: int = option(0, "--carry", "hours an observed location carries into silent bins (--method observed)",
                        limits=(0, 48), unit="h")
    method: str = method_option()
    max_gap: int = max_gap_option()

    def __post_init__(self):
        super().__post_init__()
        if self.carry and self.method == "stays":
            raise PopflowError("--carry fills silent bins of --method observed; stays already last through "
                               "silence up to --max-gap")


@dataclasses.dataclass(frozen=True)
class Homes(Window):
    """Options of indicators built on home and work locations."""

    period: str = option("month", "--period", "period of home and work detection", None)
    min_nights: int = option(3, "--min-nights", "nights needed to fix a home", limits=(1, 31))
    min_days: int = option(3, "--min-days", "weekdays needed to fix a workplace", limits=(1, 23))

    def __post_init__(self):
        super().__post_init__()
        if self.period != "month":
            raise PopflowError("--period: only 'month' is supported")


def parse_number(text: str) -> float:
    """A finite real number; its range is the field's ``limits``."""
    try:
        value = float(str(text).strip())
    except (TypeError, ValueError) as exc:
        raise PopflowError(f"'{text}' is not a number") from exc
    if not math.isfinite(value):
        raise PopflowError(f"'{text}' is not a finite number")
    return value


@dataclasses.dataclass(frozen=True)
class Tourism(Homes):
    """Options of the tourism indicator."""

    bin: int = option(3600, "--bin", "bin length for same-day visits (divides 24 h)", parse_bin,
                     "1h")
    min_visit_bins: int = option(3, "--min-visit-bins", "bins of a day spent in an area that make a same-day visit",
                                 limits=(1, 1440))
    max_visit_days: int = option(7, "--max-visit-days", "days seen in a month under which a person with no "
                                 "usual environment counts as a visitor", limits=(1, 31))
    origin_level: str | None = option(None, "--origin-level", "area level of a domestic visitor's origin "
                                      "(default: the coarsest)", parse_level)
    method: str = method_option()
    max_gap: int = max_gap_option()


@dataclasses.dataclass(frozen=True)
class Outbound(Dated):
    """Options of the outbound-travel indicator."""

    rank: str | None = option(None, "--rank", "order destinations: spend (mean spend per traveller)",
                              parse_choice("spend"))


@dataclasses.dataclass(frozen=True)
class Retail(Dated):
    """Options of the sales-penetration indicator."""

    level: str | None = option(None, "--level", "area level of the regions (default: the finest)", parse_level)
    rank: str | None = option(None, "--rank", "order regions: opportunity (potential − buyers)",
                              parse_choice("opportunity"))
    min_nights: int = option(3, "--min-nights", "nights needed to fix a resident's home", limits=(1, 31))


def parse_watched(text: str) -> str:
    """A registered indicator whose own release has series (not one derived from another release)."""
    from popflow import indicators  # the registry imports this module

    if indicators.get(str(text)).derive:
        raise PopflowError(f"--indicator {text}: its series come from another indicator's release; "
                           "watch that indicator instead")
    return str(text)


def parse_measure_name(text: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", str(text)):
        raise PopflowError(f"--measure '{text}' is not a measure name")
    return str(text)


@dataclasses.dataclass(frozen=True)
class Alerts(Dated):
    """Options of the alerts indicator."""

    indicator: str = option("present-population", "--indicator", "indicator whose series are watched",
                            parse_watched)
    measure: str | None = option(None, "--measure", "value watched (default: the indicator's people count)",
                                 parse_measure_name)
    threshold: float = option(3.5, "--threshold", "score that raises an alert in a daily series (other cadences: the "
                              "score with as many false alarms a year)", limits=(1, 100))
    level: str | None = option(None, "--level", "area level of the watched indicator", parse_level)

    def __post_init__(self):
        super().__post_init__()
        from popflow import indicators  # the registry imports this module

        measures = indicators.get(self.indicator).watchable_measures()
        if self.measure is not None and self.measure not in measures:
            raise PopflowError(f"--measure {self.measure}: {self.indicator} has no such measure "
                               f"(measures: {', '.join(measures)})")

    def source_params(self) -> dict:
        """Options handed to the watched indicator."""
        given = {"date_from": self.date_from, "date_to": self.date_to, "level": self.level}
        return {k: v for k, v in given.items() if v is not None}
