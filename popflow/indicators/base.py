"""What an indicator is: a named, documented function from input relations and a
parameter object to person-level contribution tables.

An indicator never touches an engine, a privacy mechanism or a file format.
Its SQL (DuckDB dialect, transpiled for other engines) reads only these relations,
which the runner provides:

- ``events(person, t, area_id, date, mcc)`` — ``t`` local epoch seconds;
- ``subscribers(person, gender, age_band, origin_region)``;
- ``area_map(area_id, target_id)`` — finest area → area at the requested level;
- ``calendar(day, date, period, weekday)`` — local day numbers since 1970-01-01,
  ``weekday`` 1 = Monday … 7 = Sunday;
- ``periods(period, next_period)``;
- ``tickets``, ``sales`` (lake columns, dates local), ``fx(date, currency, rate_to_base)``;
- ``mcc_countries(mcc, country)``, ``area_ancestors(area_id, ancestor_id, level)`` (every area
  with itself and each of its ancestors), ``census(area_id, population)`` (an area's census
  population), ``census_classes(area_id, gender, age_band, population)`` (the census's long form)
  and ``target_population(area_id, population)``.

A contribution table has one row per person per released cell: ``person``, the
cell's key columns and any per-person measures. The disclosure layer counts the
people in each cell and sums the measures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# Column kinds the output layer formats: local epoch seconds become zoned timestamps.
TIME_COLUMNS = frozenset({"time"})


@dataclass(frozen=True)
class Contribution:
    """Person-level rows of one released table."""

    table: str
    sql: str
    keys: tuple[str, ...]
    people: str = "people"
    sums: tuple[str, ...] = ()  # whole-number measures summed over the cell's people (e.g. trips)
    amounts: tuple[str, ...] = ()  # real-valued measures summed (money); k mode only
    medians: tuple[str, ...] = ()  # per-person measures whose median over the cell's people is released
    columns: tuple[str, ...] = ()  # output column order; default keys + people + sums
    # People are subscribers whose weights turn counts into estimates of everyone (``estimates`` module);
    # the columns appear when a population table is ingested.
    estimated: bool = False
    # A column of the rows multiplying each row's weight in the estimates (not its count): tourism's inverse
    # detection probability, 0 for a row the estimate leaves to the others (``popflow.indicators.visit_detection``).
    weight_factor: str | None = None
    # Relative standard deviation of the error of the model behind ``weight_factor`` (as measured in its module),
    # added to the placement error in the 90 % interval of the estimate (``estimates.published_estimates``).
    estimate_error: float = 0.0
    # Keys under which each person has at most one row and every person of the window could have one (the
    # time bin of a presence): weights are recalibrated to the census within each of their values.
    calibrated_per: tuple[str, ...] = ()
    # Key columns that name rather than divide a series over time: a currency, or the period a move came from.
    labels: tuple[str, ...] = ()
    # Key columns holding area ids of the release's level; a ``flow`` is the (from, to) pair of a movement.
    areas: tuple[str, ...] = ()
    flow: tuple[str, str] | None = None
    # The label column naming the currency of ``amounts`` and ``medians`` (None: the base currency).
    currency: str | None = None
    # Category keys with a closed set of values known before any data is read, as (key, values) pairs:
    # public domains, so that dp mode releases every such cell (see ``popflow.disclosure.domains``).
    categories: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Keys with a public domain, as (key, domain) pairs: the time key's ("bins", "dates" or "months" of the
    # release window) and area keys' ("areas" of the level) whose every value is a cell worth releasing. With
    # breakdowns and categories, a table whose keys are all public is released whole in dp mode; an undeclared
    # key (an origin-destination pair, an origin region) makes it data-dependent (``popflow.disclosure.domains``).
    public: tuple[tuple[str, str], ...] = ()

    def output_columns(self) -> tuple[str, ...]:
        medians = (f"{m}_median" for m in self.medians)
        return self.columns or (*self.keys, self.people, *self.sums, *self.amounts, *medians)


@dataclass(frozen=True)
class Indicator:
    """A registered indicator."""

    name: str
    summary: str
    params: type
    define: Callable[..., list[Contribution]]
    description: str = ""
    uses: tuple[str, ...] = ("events",)  # person-level sources read; the first gives the default window
    lookback_days: int = 0  # days of data before the window the indicator compares with
    # Post-disclosure steps, over published cells only (never over person-level rows):
    # ``finish(published_table, params) -> SQL`` reshapes one table, when ``finish_needs`` (a relation) has rows;
    # ``combine({contribution table: published table}, params) -> {output table: SQL}`` merges tables.
    finish: Callable | None = field(default=None)
    finish_needs: str | None = None
    combine: Callable | None = None
    # A derived indicator computes its table from another indicator's release: ``derive(release, params)``.
    derive: Callable | None = None
    # Public lake sources (no person column) that ``derive`` reads, handed to it by name as DataFrames:
    # ``derive(release, params, holidays=...)``.
    reads: tuple[str, ...] = ()
    # Numeric columns of the main output table that a series may watch, when a post-disclosure step
    # adds or removes columns; by default the first contribution's people count, sums, amounts and medians.
    measures: tuple[str, ...] = ()
    # Measures added after disclosure that are fractions of 1 (``shares``) or relative changes (``changes``).
    shares: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()

    def watchable_measures(self) -> tuple[str, ...]:
        """The measures of the main output table (see ``measures``)."""
        if self.measures or self.derive:
            return self.measures
        first = self.define(self.params())[0]
        return (first.people, *first.sums, *first.amounts, *(f"{m}_median" for m in first.medians))

    def series_roles(self) -> SeriesRoles:
        """How the main output table reads as series: declared by its first contribution (see ``SeriesRoles``)."""
        first = self.define(self.params())[0]
        keys = [k for k in first.keys if k not in first.labels]
        return SeriesRoles(time=keys[0], keys=tuple(keys[1:]), people=first.people, counts=(first.people, *first.sums))


@dataclass(frozen=True)
class SeriesRoles:
    """The roles of a main output table's columns when its cells are read as time series.

    ``time`` is the first key that is not a label (a bin, date, week or month);
    the other keys (``keys``) name a series; ``people`` is the default measure;
    ``counts`` are the whole-number measures of a cell (its people and summed
    counts), which a suppressed cell bounds.
    """

    time: str
    keys: tuple[str, ...]
    people: str
    counts: tuple[str, ...]
