"""Counting distinct values of large integer arrays.

numpy 2's `np.unique` hashes its input when no inverse or index is asked for,
which is several times slower than sorting for millions of integers; `distinct`
sorts instead.
"""

from __future__ import annotations

import numpy as np


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, in ascending order."""
    ordered = np.sort(values, kind="stable")
    if len(ordered) == 0:
        return ordered
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])]
