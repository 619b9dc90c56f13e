"""The scenario's calendar: local days, their hours as UTC instants, and local labels.

Every behaviour in the scenario follows local wall-clock time. A local day is the
span between two local midnights; its hour slots are the UTC hours inside that span
(23 or 25 of them on a daylight-saving change, 24 otherwise), each labelled with
its local hour of day. Slots are numbered consecutively over the whole period.
Records outside the hourly simulation (tickets, sales) are stamped with local
dates and seconds of the day, written as ISO 8601 with the zone's UTC offset.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class Day:
    """One local day of the period and its hour slots."""

    index: int
    date: datetime.date
    first_slot: int  # number of this day's first slot within the period
    hour_starts: np.ndarray  # int64 UTC epoch seconds at which each slot starts
    local_hours: np.ndarray  # int8 local hour of day (0-23) of each slot
    utc_offsets: np.ndarray  # int32 seconds east of UTC during each slot

    @property
    def slots(self) -> int:
        return len(self.hour_starts)

    @property
    def is_weekday(self) -> bool:
        return self.date.weekday() < 5

    @property
    def month(self) -> str:
        return self.date.strftime("%Y-%m")

    def slot_at(self, local_hour: np.ndarray) -> np.ndarray:
        """Period slot number of the first slot at or after each local hour of this day."""
        position = np.searchsorted(self.local_hours, local_hour)
        return self.first_slot + np.minimum(position, self.slots - 1)


@dataclass(frozen=True)
class Period:
    """The consecutive local days the scenario covers, in one IANA time zone."""

    start: datetime.date
    timezone: str
    days: tuple[Day, ...]

    @property
    def slots(self) -> int:
        return sum(day.slots for day in self.days)

    @property
    def end_slot(self) -> int:
        return self.slots

    @property
    def months(self) -> list[str]:
        """Calendar months (`YYYY-MM`) touched by the period, in order."""
        return sorted({day.month for day in self.days})

    def stay_slots(self, arrival_day: np.ndarray, arrival_hour: np.ndarray, departure_day: np.ndarray,
                   departure_hour: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First slot in and first slot out of the region of stays arriving and leaving on the given day
        indexes at the given local hours; a stay leaving after the period lasts to its end."""
        arrive = np.empty(len(arrival_day), dtype=np.int32)
        depart = np.full(len(arrival_day), self.end_slot, dtype=np.int32)
        for index, day in enumerate(self.days):
            arriving, leaving = arrival_day == index, departure_day == index
            arrive[arriving] = day.slot_at(arrival_hour[arriving])
            depart[leaving] = day.slot_at(departure_hour[leaving])
        return arrive, depart

    def first_month_boundary(self) -> int | None:
        """Index of the first day that starts a new calendar month, if any."""
        for day in self.days[1:]:
            if day.date.day == 1:
                return day.index
        return None

    def hour_starts(self) -> np.ndarray:
        """UTC epoch seconds of every slot of the period."""
        return np.concatenate([day.hour_starts for day in self.days])


def local_midnight(date: datetime.date, zone: ZoneInfo) -> int:
    """UTC epoch seconds of local midnight starting `date`."""
    return int(datetime.datetime.combine(date, datetime.time(0), tzinfo=zone).timestamp())


def build_day(index: int, date: datetime.date, first_slot: int, zone: ZoneInfo) -> Day:
    """The hour slots between local midnight on `date` and the next local midnight."""
    begin = local_midnight(date, zone)
    end = local_midnight(date + datetime.timedelta(days=1), zone)
    starts = np.arange(begin, end, SECONDS_PER_HOUR, dtype=np.int64)
    moments = [datetime.datetime.fromtimestamp(int(t), zone) for t in starts]
    hours = np.array([moment.hour for moment in moments], dtype=np.int8)
    offsets = np.array([moment.utcoffset().total_seconds() for moment in moments], dtype=np.int32)
    return Day(index, date, first_slot, starts, hours, offsets)


def build_period(start: datetime.date, days: int, timezone: str) -> Period:
    """The `days` consecutive local days from `start` in `timezone`."""
    if days < 1:
        raise ValueError("a scenario needs at least one day")
    zone = ZoneInfo(timezone)
    built: list[Day] = []
    first_slot = 0
    for index in range(days):
        day = build_day(index, start + datetime.timedelta(days=index), first_slot, zone)
        built.append(day)
        first_slot += day.slots
    return Period(start, timezone, tuple(built))


def offset_text(seconds: int) -> str:
    """A UTC offset as `+08:00`."""
    sign = "-" if seconds < 0 else "+"
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


@functools.cache
def clock_texts() -> pa.Array:
    """`THH:MM:SS` for every second of a day."""
    return pa.array([f"T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)])


def local_iso_texts(dates: np.ndarray, seconds: np.ndarray, timezone: str) -> pa.Array:
    """ISO 8601 local times with UTC offset (`2026-01-25T08:13:05+08:00`).

    `dates` are local dates (datetime64[D]), `seconds` the local seconds after midnight.
    """
    zone = ZoneInfo(timezone)
    days, position = np.unique(dates.astype("datetime64[D]"), return_inverse=True)
    calendar = [datetime.date.fromisoformat(str(day)) for day in days]
    date_texts = pa.array([day.isoformat() for day in calendar])
    offsets = [
        offset_text(int(datetime.datetime.combine(day, datetime.time(hour), tzinfo=zone).utcoffset().total_seconds()))
        for day in calendar for hour in range(24)
    ]
    hour_of = position.astype(np.int64) * 24 + seconds // SECONDS_PER_HOUR
    return pc.binary_join_element_wise(
        date_texts.take(pa.array(position)), clock_texts().take(pa.array(seconds)),
        pa.array(offsets).take(pa.array(hour_of)), "",
    )
