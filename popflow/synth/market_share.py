"""The operator's market share: which of the region's people carry its phones.

The operator serves a share of each district's residents that depends on the
district and on the person's age band (the census's five-year bands `<15`,
`15-19`, ..., `80+`): share = district base x age factor, kept between 20 % and
60 %. District bases are drawn between 30 % and 50 %; the age factor favours
young adults (x1.25 around 20-30) over children (x0.75) and the old (x0.6 at
85), so the share averages about 40 %. A resident is a subscriber with the share
of their first home district and their age band. Visitors from other provinces
and international roamers are on the operator's network with its national
share, 40 %.
"""

from __future__ import annotations

import numpy as np

from popflow.ingest.subscribers import AGE_BANDS
from popflow.synth.geography import Geography

LOWEST_SHARE, HIGHEST_SHARE = 0.2, 0.6
DISTRICT_BASE = (0.3, 0.5)
NATIONAL_SHARE = 0.4
# Age factor at ages, interpolated in between: young adults are the likeliest customers.
AGE_FACTOR_AGES = (12, 22, 30, 45, 60, 75, 85)
AGE_FACTORS = (0.75, 1.25, 1.2, 1.0, 0.85, 0.7, 0.6)


def age_band(ages: np.ndarray) -> np.ndarray:
    """Index into AGE_BANDS of each age in years (int8)."""
    return np.clip((np.asarray(ages) - 10) // 5, 0, len(AGE_BANDS) - 1).astype(np.int8)


def band_middles() -> np.ndarray:
    """A representative age of each band (12 for `<15`, 82 for `80+`)."""
    return np.arange(len(AGE_BANDS)) * 5 + 12


def draw_shares(rng: np.random.Generator, geo: Geography) -> np.ndarray:
    """Market share per (district, age band), between LOWEST_SHARE and HIGHEST_SHARE."""
    base = rng.uniform(*DISTRICT_BASE, geo.districts)
    factor = np.interp(band_middles(), AGE_FACTOR_AGES, AGE_FACTORS)
    return np.clip(base[:, None] * factor[None, :], LOWEST_SHARE, HIGHEST_SHARE)


def draw_subscribers(rng: np.random.Generator, shares: np.ndarray, homes: np.ndarray,
                     ages: np.ndarray) -> np.ndarray:
    """Whether each resident is the operator's subscriber, by home district and age band."""
    return rng.random(len(homes)) < shares[homes, age_band(ages)]


def draw_on_network(rng: np.random.Generator, count: int) -> np.ndarray:
    """Whether each visitor's phone uses the operator's network (national share)."""
    return rng.random(count) < NATIONAL_SHARE
