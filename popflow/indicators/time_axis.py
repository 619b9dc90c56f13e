"""The time axis of published series: slots, their cadence, the days they cover, holidays.

A slot is one value of a release's time column on a regular axis: a bin (its
start in local time), a date, an ISO week or a month. Slots are numbered from
Monday 1970-01-05, so a bin's or a day's number modulo a week's slots is its
hour of the week or its weekday. Days are numbered from the same Monday.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import pandas as pd

ORIGIN = datetime.date(1970, 1, 5)
DAY = 86_400
WEEK_DAYS = 7
YEAR_WEEKS = 52  # 364 days: a year ago on the same weekday


@dataclass(frozen=True)
class Cadence:
    """How long a slot is and how slots repeat.

    ``cycle`` slots make one week for bins and days (1 for weeks and months);
    ``year`` cycles make a seasonal year (52 weeks of 364 days, or 12 months);
    last year's slots up to ``neighbours`` cycles either side of the same slot
    share its season.
    """

    kind: str  # bin, day, week or month
    seconds: int  # slot length of bins and days; 0 for weeks and months
    cycle: int
    year: int
    neighbours: int
    per_year: float


def cadence_of(times: pd.Series, bin_seconds: int | None = None) -> Cadence:
    """The cadence of a time column: zoned bin starts, ``YYYY-MM-DD``, ``YYYY-Www`` or ``YYYY-MM``."""
    if pd.api.types.is_datetime64_any_dtype(times):
        seconds = bin_seconds or _smallest_step(times)
        return Cadence("bin", seconds, WEEK_DAYS * DAY // seconds, YEAR_WEEKS, 2, 365.25 * DAY / seconds)
    text = times.astype(str)
    if text.str.contains("-W").all():
        return Cadence("week", 0, 1, YEAR_WEEKS, 2, 365.25 / WEEK_DAYS)
    if text.str.len().eq(7).all():
        return Cadence("month", 0, 1, 12, 0, 12.0)
    return Cadence("day", DAY, WEEK_DAYS, YEAR_WEEKS, 2, 365.25)


def _smallest_step(times: pd.Series) -> int:
    """The shortest gap between distinct bin starts (one hour when there is a single bin)."""
    steps = np.diff(np.unique(_wall_seconds(times)))
    return int(steps.min()) if len(steps) else 3600


def _wall_seconds(times: pd.Series) -> np.ndarray:
    """Local wall-clock seconds since the origin Monday."""
    wall = times.dt.tz_localize(None) if times.dt.tz is not None else times
    return ((wall - pd.Timestamp(ORIGIN)) // pd.Timedelta(seconds=1)).to_numpy(np.int64)


def slots(times: pd.Series, cadence: Cadence) -> np.ndarray:
    """Slot numbers of a time column."""
    if cadence.kind == "bin":
        return _wall_seconds(times) // cadence.seconds
    text = times.astype(str)
    if cadence.kind == "week":
        mondays = pd.to_datetime(text + "-1", format="%G-W%V-%u")
        return ((mondays - pd.Timestamp(ORIGIN)) // pd.Timedelta(days=WEEK_DAYS)).to_numpy(np.int64)
    if cadence.kind == "month":
        return (text.str[:4].astype(int) * 12 + text.str[5:7].astype(int) - 1).to_numpy(np.int64)
    return ((pd.to_datetime(text) - pd.Timestamp(ORIGIN)) // pd.Timedelta(days=1)).to_numpy(np.int64)


def slot_days(numbers: np.ndarray, cadence: Cadence) -> tuple[np.ndarray, np.ndarray]:
    """First and last day (numbered from the origin Monday) that each slot covers."""
    if cadence.kind in ("bin", "day"):
        days = numbers * cadence.seconds // DAY
        return days, days
    if cadence.kind == "week":
        return numbers * WEEK_DAYS, numbers * WEEK_DAYS + WEEK_DAYS - 1
    starts = [day_number(datetime.date(int(n) // 12, int(n) % 12 + 1, 1)) for n in numbers]
    ends = [day_number(datetime.date(int(n + 1) // 12, int(n + 1) % 12 + 1, 1)) - 1 for n in numbers]
    return np.array(starts, np.int64), np.array(ends, np.int64)


def slot_of_day(day: int, cadence: Cadence) -> int:
    """The slot holding a day (its first bin)."""
    if cadence.kind in ("bin", "day"):
        return day * DAY // cadence.seconds
    if cadence.kind == "week":
        return day // WEEK_DAYS
    date = ORIGIN + datetime.timedelta(days=int(day))
    return date.year * 12 + date.month - 1


def day_number(date: datetime.date) -> int:
    return (date - ORIGIN).days


def label(number: int, cadence: Cadence, timezone: str | None) -> str:
    """A slot as the release writes it (bins as ISO 8601 with the local UTC offset)."""
    if cadence.kind == "bin":
        wall = pd.Timestamp(ORIGIN) + pd.Timedelta(seconds=int(number) * cadence.seconds)
        zoned = wall.tz_localize(timezone, ambiguous=False, nonexistent="shift_forward") if timezone else wall
        return zoned.isoformat()
    if cadence.kind == "month":
        return f"{int(number) // 12:04d}-{int(number) % 12 + 1:02d}"
    date = ORIGIN + datetime.timedelta(days=int(number) * (WEEK_DAYS if cadence.kind == "week" else 1))
    if cadence.kind == "week":
        year, week, _ = date.isocalendar()
        return f"{year}-W{week:02d}"
    return date.isoformat()


def covered(numbers: np.ndarray, cadence: Cadence, first_day: int, last_day: int,
            published: tuple[int, int]) -> np.ndarray:
    """Whether each slot lies wholly inside the covered span.

    The span is the days ``first_day`` … ``last_day`` (the release window); bins
    must also lie strictly between the release's first and last published bin,
    since ingested data can begin or end inside a day.
    """
    start, end = slot_days(numbers, cadence)
    inside = (start >= first_day) & (end <= last_day)
    if cadence.kind == "bin":
        inside &= (numbers > published[0]) & (numbers < published[1])
    return inside


def holiday_matches(numbers: np.ndarray, cadence: Cadence,
                    holidays: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """For each slot on a holiday, the slot of the same holiday a year earlier (-1 for other slots, -2 when
    there is none) and the share of holiday dates it holds ÷ the share the earlier slot held (1 but for weeks).

    A holiday's dates in one calendar year are one occurrence of its name; the
    same holiday a year earlier is the occurrence of that name in the previous
    year. A bin or day on a holiday date matches the date at the same position
    among that occurrence's dates (the last one when there are fewer); a bin
    keeps its time of day. A week holding holiday dates (the first one's
    holiday counts) matches the week of the earlier occurrence that holds the
    most similar number of its dates (then the one nearest in position).
    Travel days around a holiday belong to its season when the table lists
    them under its name. Months are never holiday slots.
    """
    matches, weights = np.full(len(numbers), -1, np.int64), np.ones(len(numbers))
    if holidays is None or holidays.empty or cadence.kind == "month":
        return matches, weights
    calendar = HolidayCalendar.of(holidays)
    start, end = slot_days(numbers, cadence)
    for i, (first, last) in enumerate(zip(start, end, strict=True)):
        days = [d for d in range(first, last + 1) if d in calendar.occurrence]
        if days and cadence.kind == "week":
            matches[i], weights[i] = calendar.matched_week(days)
        elif days:
            matches[i] = _matched_bin(numbers[i], days[0], calendar.matched_day(days[0]), cadence)
    return matches, weights


def _matched_bin(number: int, day: int, matched_day: int | None, cadence: Cadence) -> int:
    return -2 if matched_day is None else number + (matched_day - day) * DAY // cadence.seconds


@dataclass(frozen=True)
class HolidayCalendar:
    """Holiday dates (day numbers) by occurrence: (name, calendar year) → its dates in order."""

    dates: dict[tuple[str, int], list[int]]
    occurrence: dict[int, tuple[str, int]]

    @classmethod
    def of(cls, holidays: pd.DataFrame) -> HolidayCalendar:
        table = holidays.assign(date=pd.to_datetime(holidays["date"]).dt.date).drop_duplicates("date")
        dates: dict[tuple[str, int], list[int]] = {}
        for date, name in sorted(zip(table["date"], table["name"].astype(str), strict=True)):
            dates.setdefault((name, date.year), []).append(day_number(date))
        return cls(dates, {d: key for key, days in dates.items() for d in days})

    def earlier(self, day: int) -> list[int]:
        name, year = self.occurrence[day]
        return self.dates.get((name, year - 1), [])

    def position(self, day: int) -> int:
        return self.dates[self.occurrence[day]].index(day)

    def matched_day(self, day: int) -> int | None:
        """The date at the same position in the previous year's occurrence."""
        before = self.earlier(day)
        return before[min(self.position(day), len(before) - 1)] if before else None

    def matched_week(self, days: list[int]) -> tuple[int, float]:
        """The week of last year's occurrence holding the most similar number of its dates (-2 if none), and
        the number of dates this week holds ÷ the number that week held."""
        before = self.earlier(days[0])
        if not before:
            return -2, 1.0
        held = sum(self.occurrence[d] == self.occurrence[days[0]] for d in days)
        weeks = {}
        for position, day in enumerate(before):
            weeks.setdefault(day // WEEK_DAYS, []).append(position)
        own = self.position(days[0])
        week = min(weeks, key=lambda w: (abs(len(weeks[w]) - held), abs(weeks[w][0] - own)))
        return week, held / len(weeks[week])
