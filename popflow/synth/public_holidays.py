"""Mainland China's public holidays and rest days, as the scenario's people live them.

Rest days are Saturdays, Sundays and the public holidays: New Year's Day (1 January),
the Spring Festival (Chinese New Year's Eve and the six days after New Year's Day,
eight days in all), Qingming (4-6 April), Labour Day (1-5 May) and the National Day
"Golden Week" (1-7 October). The lunar holidays that move from year to year
(Dragon Boat, Mid-Autumn) and the official make-up working weekends are left out.
Chinese New Year's Day falls between 21 January and 20 February; it is tabulated
for 2015-2035 and taken as 5 February in other years.
"""

from __future__ import annotations

import datetime
import functools

import numpy as np

CHINESE_NEW_YEAR = {
    2015: (2, 19), 2016: (2, 8), 2017: (1, 28), 2018: (2, 16), 2019: (2, 5), 2020: (1, 25),
    2021: (2, 12), 2022: (2, 1), 2023: (1, 22), 2024: (2, 10), 2025: (1, 29), 2026: (2, 17),
    2027: (2, 6), 2028: (1, 26), 2029: (2, 13), 2030: (2, 3), 2031: (1, 23), 2032: (2, 11),
    2033: (1, 31), 2034: (2, 19), 2035: (2, 8),
}
FALLBACK_NEW_YEAR = (2, 5)
# Fixed-date holidays: (month, first day, last day).
FIXED_HOLIDAYS = ((1, 1, 1), (4, 4, 6), (5, 1, 5), (10, 1, 7))
SPRING_FESTIVAL_DAYS = range(-1, 7)  # from New Year's Eve to the sixth day after


def chinese_new_year(year: int) -> datetime.date:
    """The first day of the lunar year that starts in `year`."""
    month, day = CHINESE_NEW_YEAR.get(year, FALLBACK_NEW_YEAR)
    return datetime.date(year, month, day)


@functools.cache
def public_holidays(year: int) -> frozenset[datetime.date]:
    """The public holidays of `year`."""
    days = {
        datetime.date(year, month, day)
        for month, first, last in FIXED_HOLIDAYS for day in range(first, last + 1)
    }
    new_year = chinese_new_year(year)
    days.update(new_year + datetime.timedelta(days=offset) for offset in SPRING_FESTIVAL_DAYS)
    return frozenset(days)


def is_holiday(date: datetime.date) -> bool:
    return date in public_holidays(date.year)


def is_rest_day(date: datetime.date) -> bool:
    """A weekend day or a public holiday."""
    return date.weekday() >= 5 or is_holiday(date)


def rest_days(first: datetime.date, count: int) -> np.ndarray:
    """Whether each of `count` consecutive dates from `first` is a rest day (bool array)."""
    return np.array([is_rest_day(first + datetime.timedelta(days=i)) for i in range(count)])


def holidays_between(first: datetime.date, count: int) -> np.ndarray:
    """Whether each of `count` consecutive dates from `first` is a public holiday (bool array)."""
    return np.array([is_holiday(first + datetime.timedelta(days=i)) for i in range(count)])
