"""The census: `population.csv` and the long-form `population_by_gender_age.csv`.

The census counts every resident of the region, the operator's subscribers or
not, at their first home in the period (migrants who arrive later included):
`population.csv` has `area_id, population, adults` (residents aged 18 or more in
the period's start year) per district; `population_by_gender_age.csv` has
`area_id, gender, age_band, population` per district, true gender (F, M, other)
and five-year age band (`<15` ... `80+`, ages in the period's start year),
zeros included - the long form of the `population` input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from popflow import columns as col
from popflow.ingest.subscribers import AGE_BANDS
from popflow.synth.clock import Period
from popflow.synth.csv_files import write_csv
from popflow.synth.geography import Geography
from popflow.synth.market_share import age_band
from popflow.synth.residents import TRUE_GENDERS, Residents

ADULT_AGE = 18
LONG_FORM_FILE = "population_by_gender_age.csv"


def ages(residents: Residents, period: Period) -> np.ndarray:
    """Age of each resident in the period's start year."""
    return period.start.year - residents.birth_year.astype(np.int64)


def is_adult(residents: Residents, period: Period) -> np.ndarray:
    """Aged 18 or more in the period's start year."""
    return ages(residents, period) >= ADULT_AGE


def census_table(residents: Residents, period: Period, geo: Geography) -> pa.Table:
    """area_id, population, adults for every district."""
    home = residents.profiles.home
    return pa.table({
        col.AREA_ID: pa.array(geo.district_ids),
        col.POPULATION: pa.array(np.bincount(home, minlength=geo.districts)),
        col.ADULTS: pa.array(np.bincount(home[is_adult(residents, period)], minlength=geo.districts)),
    })


def long_census_table(residents: Residents, period: Period, geo: Geography) -> pa.Table:
    """area_id, gender, age_band, population for every district, gender and age band."""
    genders, bands = len(TRUE_GENDERS), len(AGE_BANDS)
    gender = pc.index_in(residents.gender, pa.array(TRUE_GENDERS)).to_numpy()
    cell = (residents.profiles.home.astype(np.int64) * genders + gender) * bands + age_band(ages(residents, period))
    counts = np.bincount(cell, minlength=geo.districts * genders * bands)
    return pa.table({
        col.AREA_ID: pa.array(np.repeat(np.array(geo.district_ids), genders * bands)),
        col.GENDER: pa.array(np.tile(np.repeat(np.array(TRUE_GENDERS), bands), geo.districts)),
        col.AGE_BAND: pa.array(np.tile(np.array(AGE_BANDS), geo.districts * genders)),
        col.POPULATION: pa.array(counts),
    })


def write_census(residents: Residents, period: Period, geo: Geography, folder: Path) -> None:
    """Write both census tables into `folder`."""
    write_csv(census_table(residents, period, geo), folder / "population.csv")
    write_csv(long_census_table(residents, period, geo), folder / LONG_FORM_FILE)
