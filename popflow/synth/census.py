"""The census table `population.csv`: residents and adult residents per district.

The synthetic subscribers are the operator's customers only. Assuming the operator
holds 40 % of the market, the census counts each district's true subscriber
residents (at their first home in the period, migrants included) divided by 0.4,
rounded; `adults` does the same for residents aged 18 or more at the start year.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from popflow import columns as col
from popflow.synth.clock import Period
from popflow.synth.csv_files import write_csv
from popflow.synth.geography import Geography
from popflow.synth.residents import Subscribers

MARKET_SHARE = 0.4
ADULT_AGE = 18


def scaled_count(homes: np.ndarray, districts: int) -> np.ndarray:
    """Subscribers per home district scaled to the whole population (int64)."""
    return np.round(np.bincount(homes, minlength=districts) / MARKET_SHARE).astype(np.int64)


def is_adult(subscribers: Subscribers, period: Period) -> np.ndarray:
    """Aged 18 or more in the period's start year."""
    return period.start.year - subscribers.birth_year.astype(np.int64) >= ADULT_AGE


def census_table(subscribers: Subscribers, period: Period, geo: Geography) -> pa.Table:
    """area_id, population, adults for every district."""
    home = subscribers.profiles.home
    return pa.table({
        col.AREA_ID: pa.array(geo.district_ids),
        col.POPULATION: pa.array(scaled_count(home, geo.districts)),
        col.ADULTS: pa.array(scaled_count(home[is_adult(subscribers, period)], geo.districts)),
    })


def write_census(subscribers: Subscribers, period: Period, geo: Geography, path: Path) -> None:
    write_csv(census_table(subscribers, period, geo), path)
