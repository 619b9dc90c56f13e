"""Raw identifiers of the travel seller's and the retailer's records.

Identifiers are a fixed text prefix followed by a zero-padded number, built
column-wise with Arrow so that millions of them cost well under a second.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def prefixed_ids(prefixes: pa.Array | str, numbers: np.ndarray, digits: int) -> pa.Array:
    """Identifiers made of a prefix (one, or one per number) and a zero-padded number."""
    if isinstance(prefixes, str):
        prefixes = pa.array(np.full(len(numbers), prefixes))
    padded = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), digits, "0")
    return pc.binary_join_element_wise(prefixes, padded, "")


def unique_numbers(rng: np.random.Generator, count: int, digits: int) -> np.ndarray:
    """`count` distinct random numbers of exactly `digits` digits."""
    lowest = 10 ** (digits - 1)
    return rng.choice(9 * lowest, size=count, replace=False) + lowest


def increasing_serials(rng: np.random.Generator, count: int, start: int) -> np.ndarray:
    """Distinct numbers growing with the row order from about `start`, with random gaps."""
    return start + np.cumsum(rng.integers(1, 200, count))
