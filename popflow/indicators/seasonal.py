"""Expected values and scores of count series on a regular slot grid (the alerts model).

Series are rows of arrays over the same slots; slots repeat in cycles of
``cycle`` slots (a week of bins or days, else 1) and ``year`` cycles make a
seasonal year. A value is known when published or censored (a suppressed
cell, below its series' ``bound``); ``x`` holds half the bound for a
censored slot (a censored value sorts below every published one, so no
median used here depends on it). Points are scored in time order, a cycle
at a time, each from what came before it: as outbreaks are kept out of a
surveillance baseline, a changed point (an alert, or an unscored point
inside a run of alerts) takes no part in what later points are compared with.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from popflow.indicators.time_axis import Cadence

HISTORY = 4  # same-slot values of earlier cycles in the recent baseline
MIN_PUBLISHED = 3  # of which at least this many published (at most one censored)
LOOKBACK = 13  # cycles the recent baseline and the level ratio reach back
LEVEL_PAIRS = 3  # cycles' worth of slots paired with a year earlier that the level ratio needs
MIN_RESIDUALS = 6  # earlier scored points of the series needed for its noise scale
RESIDUAL_SLOTS = 52  # slots (and at least four cycles) over which the noise scale is measured
RELATIVE_NOISE = 0.05  # variation beyond counting noise that a count always has
MAD_TO_SIGMA = 1.4826
DAYS_A_YEAR = 365.25


@dataclass(frozen=True)
class Grid:
    """Series values on a slot grid whose length is a whole number of cycles."""

    x: np.ndarray  # [series, slots] value; half the bound when censored; NaN when unknown
    published: np.ndarray  # [series, slots] bool
    censored: np.ndarray  # [series, slots] bool
    bound: np.ndarray  # [series] a censored value lies in [0, bound)
    covered: np.ndarray  # [slots] bool: the slot's period lies wholly in the covered span
    holiday: np.ndarray  # [slots] bool
    match: np.ndarray  # [slots] grid index of the same holiday a year earlier; -1 when none
    weight: np.ndarray  # [slots] share of holiday dates held ÷ the share the matched slot held
    cadence: Cadence

    @property
    def known(self) -> np.ndarray:
        return (self.published | self.censored) & self.covered


@dataclass(frozen=True)
class Scored:
    """Per series and slot: the expected value, the score (NaN where not scored), and changed points."""

    expected: np.ndarray
    score: np.ndarray
    changed: np.ndarray
    settled: np.ndarray  # changed points of a change that lasted: the new level of the recent baseline
    ordinary: np.ndarray  # what a slot would hold were it no holiday
    residual: np.ndarray  # scaled deviation of scored, unchanged, published ordinary points


def threshold_for(threshold: float, cadence: Cadence) -> float:
    """The score a series of this cadence must reach to expect as many false alarms a year as a daily
    series at ``threshold`` (higher for hourly series, lower for weekly and monthly ones)."""
    normal = NormalDist()
    tail = 2 * (1 - normal.cdf(threshold)) * DAYS_A_YEAR / cadence.per_year
    return threshold if tail >= 1 else normal.inv_cdf(1 - tail / 2)


def score(grid: Grid, threshold: float) -> Scored:
    """Expected values and scores of every point, cycle after cycle."""
    blank, none = np.full(grid.x.shape, np.nan), np.zeros(grid.x.shape, bool)
    found = Scored(blank.copy(), blank.copy(), none.copy(), none.copy(), blank.copy(), blank.copy())
    known = grid.known
    for cycle in range(grid.x.shape[1] // grid.cadence.cycle):
        _score_cycle(grid, known, found, cycle, threshold)
    return found


def _score_cycle(grid: Grid, known: np.ndarray, found: Scored, cycle: int, threshold: float) -> None:
    """Score one cycle's slots from the earlier ones, and record which of them changed."""
    size = grid.cadence.cycle
    now = slice(cycle * size, (cycle + 1) * size)
    settle(grid, known, found, cycle)
    expected = expected_values(grid, known, found, cycle)
    holiday = grid.holiday[now][None, :]
    noise = np.sqrt(np.maximum(expected, 1.0) + (RELATIVE_NOISE * expected) ** 2)
    widen = np.where(holiday, np.sqrt(2), 1.0)  # a single reference value: its noise doubles the variance
    spread = noise * widen * noise_scale(found.residual, cycle * size, max(RESIDUAL_SLOTS, 4 * size))
    value = np.where(grid.censored[:, now], np.minimum(grid.bound[:, None], expected), grid.x[:, now])
    scores = np.where(known[:, now], (value - expected) / spread, np.nan)
    alert = np.abs(np.nan_to_num(scores)) >= threshold
    calm = grid.published[:, now] & ~holiday & np.isfinite(expected) & ~alert
    found.expected[:, now], found.score[:, now] = expected, scores
    found.residual[:, now] = np.where(calm, (grid.x[:, now] - expected) / noise, np.nan)
    found.changed[:, now] = changed(found.score, now, HISTORY * size, threshold)


def expected_values(grid: Grid, known: np.ndarray, found: Scored, cycle: int) -> np.ndarray:
    """What each slot of the cycle would hold if nothing had changed.

    Ordinary slots: the same slot in the latest earlier year where it was
    steady (median with its neighbouring cycles) scaled by the level ratio to
    that year; without one, the recent baseline. Holiday slots: the same
    holiday a year earlier scaled by the level ratio, its extra over that
    year's ordinary expectation scaled by the share of holiday dates (weeks).
    """
    now = slice(cycle * grid.cadence.cycle, (cycle + 1) * grid.cadence.cycle)
    usable = known & ~found.changed & ~grid.holiday[None, :] & grid.published
    ordinary = recent_baseline(grid, known, found, cycle)
    ratio = np.full((grid.x.shape[0], 1), np.nan)
    for back in range(cycle // grid.cadence.year, 0, -1):  # the latest year wins
        ratio_back = level_ratio(grid, usable, cycle, back)[:, None]
        seasonal = last_year(grid, known, found.changed, cycle, back) * ratio_back
        ordinary = np.where(np.isfinite(seasonal), seasonal, ordinary)
        ratio = ratio_back if back == 1 else ratio
    found.ordinary[:, now] = ordinary
    return np.where(grid.holiday[now][None, :], holiday_reference(grid, found, cycle) * ratio, ordinary)


def changed(scores: np.ndarray, now: slice, carry: int, threshold: float) -> np.ndarray:
    """Alerts among ``now``'s slots, and the unscored ones that follow an alert within ``carry`` slots with
    no scored point between: a change cuts the history of the points after it short, they are part of it."""
    start = max(0, now.start - carry)
    state = np.where(np.isfinite(scores[:, start:now.stop]), np.abs(scores[:, start:now.stop]) >= threshold,
                     np.nan)
    carried = pd.DataFrame(state.T).ffill(limit=carry).to_numpy().T[:, now.start - start:]
    return np.nan_to_num(carried) > 0


def recent_baseline(grid: Grid, known: np.ndarray, found: Scored, cycle: int) -> np.ndarray:
    """Per slot of the cycle: the median of the same slot's ``HISTORY`` most recent ordinary values in the
    previous ``LOOKBACK`` cycles that did not change, or that belong to a change that settled (see
    ``settle``) and has not changed again since; NaN when there are fewer, or fewer than ``MIN_PUBLISHED``
    published."""
    recent = _by_cycle(cycle, grid.cadence.cycle)
    ordinary, changed, settled = recent(known & ~grid.holiday[None, :]), recent(found.changed), recent(found.settled)
    unsettled = ordinary & changed & ~settled
    later = np.cumsum(unsettled, axis=1) - unsettled > 0  # a more recent value changed and did not settle
    pick = _latest(ordinary & (~changed | (settled & ~later)))
    enough = (pick.sum(axis=1) == HISTORY) & ((pick & recent(grid.published)).sum(axis=1) >= MIN_PUBLISHED)
    return np.where(enough, _median(np.where(pick, recent(grid.x), np.nan), axis=1), np.nan)


def settle(grid: Grid, known: np.ndarray, found: Scored, cycle: int) -> None:
    """A change that has lasted ``HISTORY`` cycles is the new level: when a slot's ``HISTORY`` most recent
    ordinary values before the cycle all changed, they settle, and the recent baseline takes them until
    the slot changes again (they stay changed for the comparisons a year later)."""
    recent = _by_cycle(cycle, grid.cadence.cycle)
    latest = _latest(recent(known & ~grid.holiday[None, :]))
    lasted = (latest & recent(found.changed)).sum(axis=1, keepdims=True) == HISTORY
    span = slice(max(0, cycle - LOOKBACK) * grid.cadence.cycle, cycle * grid.cadence.cycle)
    found.settled[:, span] |= (latest & lasted)[:, ::-1].reshape(grid.x.shape[0], -1)


def _by_cycle(cycle: int, size: int):
    """A view of an array's previous ``LOOKBACK`` cycles as [series, cycle, slot], most recent cycle first."""
    first = max(0, cycle - LOOKBACK)

    def recent(a: np.ndarray) -> np.ndarray:
        return a[:, first * size:cycle * size].reshape(a.shape[0], cycle - first, size)[:, ::-1]

    return recent


def _latest(use: np.ndarray) -> np.ndarray:
    """The first ``HISTORY`` true entries along axis 1."""
    return use & (np.cumsum(use, axis=1) <= HISTORY)


def level_ratio(grid: Grid, usable: np.ndarray, cycle: int, back: int = 1) -> np.ndarray:
    """Per series: the recent level ÷ the level ``back`` years earlier. Over the previous ``LOOKBACK``
    cycles, the sum of the usable values whose slot that year is usable too, ÷ the sum of those earlier
    values; NaN when fewer than ``LEVEL_PAIRS`` cycles' worth of slots pair up."""
    size, year = grid.cadence.cycle, back * grid.cadence.year * grid.cadence.cycle
    start, stop = max(year, (cycle - LOOKBACK) * size), cycle * size
    if stop <= start:
        return np.full(grid.x.shape[0], np.nan)
    pair = usable[:, start:stop] & usable[:, start - year:stop - year]
    now = np.where(pair, grid.x[:, start:stop], 0.0).sum(axis=1)
    then = np.where(pair, grid.x[:, start - year:stop - year], 0.0).sum(axis=1)
    with np.errstate(all="ignore"):
        return np.where((pair.sum(axis=1) >= LEVEL_PAIRS * size) & (then > 0), now / then, np.nan)


def last_year(grid: Grid, known: np.ndarray, changed: np.ndarray, cycle: int, back: int = 1) -> np.ndarray:
    """Per slot of the cycle: the median of the same slot ``back`` years earlier and the ``neighbours``
    cycles either side, over the steady ordinary ones; NaN unless most are, and at most a minority censored."""
    size, cadence = grid.cadence.cycle, grid.cadence
    slots = np.arange(cycle * size, (cycle + 1) * size)
    offsets = [(back * cadence.year + d) * size for d in range(-cadence.neighbours, cadence.neighbours + 1)]
    values, censored = [], []
    for offset in offsets:
        ref = slots - offset
        ok = (ref >= 0)[None, :] & steady(grid, known, changed, ref) & ~grid.holiday[np.maximum(ref, 0)][None, :]
        values.append(np.where(ok, grid.x[:, np.maximum(ref, 0)], np.nan))
        censored.append(ok & grid.censored[:, np.maximum(ref, 0)])
    values = np.stack(values, axis=-1)
    found = np.isfinite(values).sum(axis=-1)
    enough = (found * 2 > len(offsets)) & (np.sum(censored, axis=0) <= (found - 1) // 2)
    return np.where(enough, _median(values, axis=-1), np.nan)


def holiday_reference(grid: Grid, found: Scored, cycle: int) -> np.ndarray:
    """Per slot of the cycle: the published, steady value of the same holiday a year earlier (else NaN); for a
    week holding a different share of holiday dates, that year's ordinary expectation plus its holiday extra
    scaled by the shares."""
    size = grid.cadence.cycle
    match, weight = grid.match[cycle * size:(cycle + 1) * size], grid.weight[cycle * size:(cycle + 1) * size]
    ref = np.maximum(match, 0)
    ok = (match >= 0)[None, :] & grid.published[:, ref] & steady(grid, grid.known, found.changed, ref)
    value, ordinary = grid.x[:, ref], found.ordinary[:, ref]
    scaled = np.where(weight == 1, value, ordinary + (value - ordinary) * weight)
    return np.where(ok, scaled, np.nan)


def steady(grid: Grid, known: np.ndarray, changed: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Whether the slots ``ref`` hold known values that neither changed nor sit a cycle from a change."""
    size, last = grid.cadence.cycle, grid.x.shape[1] - 1
    around = [np.clip(ref + d * size, 0, last) for d in (-1, 0, 1)]
    return known[:, np.clip(ref, 0, last)] & ~np.any([changed[:, r] for r in around], axis=0)


def noise_scale(residual: np.ndarray, stop: int, window: int) -> np.ndarray:
    """Per series: how much wider than counting noise it varies, 1.4826 × the median |residual| of its
    scored points in the ``window`` slots before ``stop``, at least 1; NaN before ``MIN_RESIDUALS``."""
    recent = np.abs(residual[:, max(0, stop - window):stop])
    enough = np.isfinite(recent).sum(axis=1) >= MIN_RESIDUALS
    return np.where(enough, np.maximum(MAD_TO_SIGMA * _median(recent, axis=1), 1.0), np.nan)[:, None]


def _median(values: np.ndarray, axis: int) -> np.ndarray:
    """The median of the finite values along ``axis`` (NaN where there are none)."""
    if values.shape[axis] == 0:
        return np.full(np.delete(values.shape, axis), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(values, axis=axis)
