"""Exchange rates, `fx.csv`: `date, currency, rate_to_base` for every date of a span.

The base currency is CNY (rate 1.0). `rate_to_base` is the price of one unit of
the currency in CNY: USD around 7.0-7.3 and EUR around 7.6-8.1, each drifting
from day to day as a mean-reverting random walk of its logarithm (daily standard
deviation 0.2 % for USD, 0.4 % for EUR), rounded to 4 decimals. Rows are ordered
by date, then CNY, USD, EUR.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from popflow import columns as col
from popflow.synth.csv_files import write_csv

CURRENCIES = ("CNY", "USD", "EUR")
CNY, USD, EUR = range(3)
# Per currency: range of the long-run level, daily sd of the log rate, daily pull to the level.
LEVELS = ((1.0, 1.0), (7.0, 7.3), (7.6, 8.1))
DAILY_SD = (0.0, 0.002, 0.004)
REVERSION = 0.02
FX_COLUMNS = [col.DATE, "currency", "rate_to_base"]


@dataclass(frozen=True)
class FxRates:
    """Daily rates to CNY from `first` on, (days, currencies)."""

    first: datetime.date
    rates: np.ndarray  # float64, rounded to 4 decimals

    def to_base(self, currency: np.ndarray, dates: np.ndarray) -> np.ndarray:
        """Rates of each `currency` index on each date (datetime64[D])."""
        day = (dates.astype("datetime64[D]") - np.datetime64(self.first, "D")).astype(np.int64)
        return self.rates[day, currency]


def draw_fx(rng: np.random.Generator, first: datetime.date, last: datetime.date) -> FxRates:
    """Rates for every date from `first` to `last` inclusive."""
    days = (last - first).days + 1
    level = np.log([rng.uniform(low, high) for low, high in LEVELS])
    log_rate = np.empty((days, len(CURRENCIES)))
    log_rate[0] = level + rng.normal(0.0, 0.01, len(CURRENCIES)) * (level != 0)
    shocks = rng.normal(0.0, 1.0, (days, len(CURRENCIES))) * np.array(DAILY_SD)
    for day in range(1, days):
        previous = log_rate[day - 1]
        log_rate[day] = previous + REVERSION * (level - previous) + shocks[day]
    return FxRates(first, np.round(np.exp(log_rate), 4))


def fx_table(fx: FxRates) -> pa.Table:
    days, currencies = fx.rates.shape
    dates = np.datetime64(fx.first, "D") + np.arange(days)
    return pa.Table.from_arrays([
        pa.array(np.repeat(dates, currencies)),
        pa.array(np.tile(np.array(CURRENCIES), days)),
        pa.array(fx.rates.ravel()),
    ], names=FX_COLUMNS)


def write_fx(fx: FxRates, path: Path) -> None:
    write_csv(fx_table(fx), path)
