"""Independent, reproducible random streams derived from the scenario seed.

Each part of the scenario draws from its own stream, named by a purpose and any
numbers (day, chunk), so adding a new source or changing how one part draws
leaves every other part's output unchanged for the same seed.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, purpose: str, *numbers: int) -> np.random.Generator:
    """A generator for `purpose` (and e.g. a day and a chunk number) under `seed`."""
    return np.random.default_rng([seed, zlib.crc32(purpose.encode()), *numbers])
