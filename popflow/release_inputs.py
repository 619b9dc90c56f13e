"""The relations an indicator reads, prepared on an engine for one release window.

See ``popflow.indicators.base`` for the relations and their columns.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

import pyarrow as pa

from popflow import reference_data
from popflow.disclosure.domains import Domains
from popflow.errors import PopflowError
from popflow.geography import level_map
from popflow.indicators import estimates
from popflow.indicators.params import Homes

EPOCH = datetime.date(1970, 1, 1)
FIRST_MONDAY = datetime.date(1969, 12, 29)  # week_index counts ISO weeks from the one holding EPOCH
# Census population per area: its total row, else the sum of its class rows (long form).
CENSUS_SQL = """
SELECT area_id, population FROM lake_population WHERE gender IS NULL
UNION ALL
SELECT area_id, sum(population) AS population FROM lake_population
WHERE gender IS NOT NULL AND area_id NOT IN (SELECT area_id FROM lake_population WHERE gender IS NULL)
GROUP BY area_id
"""
QUERY_SET_MESSAGE = "the requested window or filter covers too few people to release anything"


@dataclass(frozen=True)
class ReleaseWindow:
    """The local dates a release covers, with its calendar and area map."""

    first: datetime.date
    last: datetime.date
    calendar: pa.Table
    area_map: pa.Table
    weighted: bool = False  # person weights are registered: counts of subscribers get estimates of everyone
    reads: tuple[datetime.date, datetime.date] | None = None  # first and last date of data the release may read

    def domains(self, p) -> Domains:
        """Public key domains of this window (DP mode releases every such cell)."""
        return Domains.for_window(self.calendar, self.area_map, getattr(p, "bin", None))


def prepare_inputs(eng, ws, p, area_rows: list[dict], settings, primary: str = "events",
                   lookback_days: int = 0, estimates_wanted: bool = False) -> ReleaseWindow:
    """Register every relation of ``popflow.indicators.base`` for the release window.

    ``primary`` is the dated source whose span gives the default window and whose
    people the query-set check counts; ``lookback_days`` extends the calendar
    before the window for indicators that compare with earlier periods;
    ``estimates_wanted`` registers the person weights when a census is ingested
    (only then are the calendar months of the window read and charged for them).
    """
    (first, last), span = _window(eng, p, primary)
    area_map = level_map(area_rows, getattr(p, "level", None))
    margin = _margin_days(p)
    eng.create_view("events", (
        "SELECT person, t, area_id, date, mcc FROM lake_events WHERE date BETWEEN "
        f"DATE '{first - datetime.timedelta(days=margin)}' AND DATE '{last + datetime.timedelta(days=1)}'"))
    for source in ("tickets", "sales", "fx"):  # the relations ``indicators.base`` promises; others: lake_<source>
        eng.create_view(source, f"SELECT * FROM lake_{source}")
    _refuse_small_query_set(eng, primary, first, last, settings.k_anonymity)
    eng.create_view("subscribers", "SELECT person, gender, age_band, origin_region FROM lake_subscribers")
    eng.register("area_map", area_map)
    calendar = calendar_table(first - datetime.timedelta(days=lookback_days), last)
    eng.register("calendar", calendar)
    eng.register("periods", periods_table(calendar))
    eng.register("release_window", pa.table({"first": pa.array([first], pa.date32()),
                                              "last": pa.array([last], pa.date32())}))
    eng.register("mcc_countries", reference_data.mcc_countries())
    eng.register("home_mccs", pa.table({"mcc": pa.array(list(settings.home_mcc), pa.string())}))
    eng.register("area_ancestors", area_ancestors(area_rows))
    eng.create_view("census", CENSUS_SQL)
    eng.create_view("census_classes", "SELECT area_id, gender, age_band, population FROM lake_population "
                                      "WHERE gender IS NOT NULL")
    eng.create_view("target_population", _target_population_sql())
    weighted = estimates_wanted and _register_weights(eng, first, last, getattr(p, "min_nights", Homes.min_nights),
                                                      settings.k_anonymity)
    return ReleaseWindow(first, last, calendar, area_map, weighted,
                         _reads(p, (first, last), span, lookback_days, weighted))


def read_span(eng, p, primary: str, lookback_days: int, estimates_wanted: bool) -> tuple[datetime.date, datetime.date]:
    """The span of data a release would read (``ReleaseWindow.reads``), found without registering anything:
    what a package of dp releases is charged for before any of them runs. The person weights count as read
    whenever estimates are wanted and a census is ingested."""
    window, span = _window(eng, p, primary)
    return _reads(p, window, span, lookback_days, estimates_wanted and census_ingested(eng))


def census_ingested(eng) -> bool:
    """Whether the lake holds a census (a ``population`` table), which person weights are calibrated to."""
    return eng.table("SELECT count(*) AS n FROM lake_population").column("n")[0].as_py() > 0


def _reads(p, window: tuple[datetime.date, datetime.date], span: tuple[datetime.date, datetime.date],
           lookback_days: int, weighted: bool) -> tuple[datetime.date, datetime.date]:
    """The dates of data read: the window, from earlier by the margin or look-back, and with weights the whole
    calendar months of the window; clipped to the dates that hold data."""
    first, last = window
    reads = (first - datetime.timedelta(days=max(_margin_days(p), lookback_days)), last + datetime.timedelta(days=1))
    if weighted:
        reads = (min(reads[0], first.replace(day=1)), max(reads[1], _month_end(last) + datetime.timedelta(days=1)))
    return max(reads[0], span[0]), min(reads[1], span[1])


def _margin_days(p) -> int:
    """Days of events before the window a release reads: what ``--carry`` reaches back, or with stays
    ``--max-gap`` (a stay in the window may have begun that long before it)."""
    reach = getattr(p, "carry", 0) * 3600
    if getattr(p, "method", None) == "stays":
        reach = max(reach, p.max_gap)
    return math.ceil(reach / 86_400)


def _month_end(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)


def _register_weights(eng, first: datetime.date, last: datetime.date, min_nights: int, k: int) -> bool:
    """``person_weight`` and ``default_weight`` (see ``popflow.indicators.estimates``) when a census is ingested.

    Homes are read over the calendar months the window touches (and the night after their last day), once
    (``home_unit``) for both.
    """
    if not census_ingested(eng):
        return False
    month_first, month_last = first.replace(day=1), _month_end(last)
    eng.create_view("month_events", (
        "SELECT person, t, area_id, date, mcc FROM lake_events WHERE date BETWEEN "
        f"DATE '{month_first}' AND DATE '{month_last + datetime.timedelta(days=1)}'"))
    eng.register("month_calendar", calendar_table(month_first, month_last))
    eng.materialize("home_unit", estimates.home_unit_sql(min_nights))
    eng.materialize("person_weight", estimates.person_weight_sql(k))
    eng.materialize("default_weight", estimates.default_weight_sql(k))
    return eng.table("SELECT count(*) AS n FROM default_weight WHERE weight IS NOT NULL").column("n")[0].as_py() > 0


def area_ancestors(rows: list[dict]) -> pa.Table:
    """Every area paired with itself and each of its ancestors, with the ancestor's level."""
    by_id = {r["area_id"]: r for r in rows}
    pairs = []
    for area in rows:
        ancestor = area
        for _ in range(len(rows)):
            if ancestor is None:
                break
            pairs.append((area["area_id"], ancestor["area_id"], ancestor["level"]))
            ancestor = by_id.get(ancestor["parent_id"]) if ancestor["parent_id"] else None
    return pa.table({name: pa.array([p[i] for p in pairs], pa.string())
                     for i, name in enumerate(("area_id", "ancestor_id", "level"))})


def _window(eng, p, primary: str) -> tuple[tuple[datetime.date, datetime.date], tuple[datetime.date, datetime.date]]:
    """The requested dates (default: every date of ``primary``) clipped to the dates that hold data, and those
    dates.

    A window with no data at all is refused like any window with too few people.
    """
    span = eng.table(f"SELECT min(date) AS first, max(date) AS last FROM lake_{primary}").to_pylist()[0]
    if span["first"] is None:
        raise PopflowError(f"no {primary} in the workspace: ingest {primary} first")
    first = max(p.date_from or span["first"], span["first"])
    last = min(p.date_to or span["last"], span["last"])
    if first > last:
        raise PopflowError(QUERY_SET_MESSAGE)
    return (first, last), (span["first"], span["last"])


def _refuse_small_query_set(eng, source: str, first: datetime.date, last: datetime.date, k: int) -> None:
    """Refuse a window holding fewer than k people, without saying how many it holds."""
    in_window = f"FROM {source} WHERE date BETWEEN DATE '{first}' AND DATE '{last}'"
    approx = eng.table(f"SELECT approx_count_distinct(person) AS n {in_window}").column("n")[0].as_py()
    if approx < 10 * k:
        exact = eng.table(f"SELECT count(DISTINCT person) AS n {in_window}").column("n")[0].as_py()
        if exact < k:
            raise PopflowError(QUERY_SET_MESSAGE)


def calendar_table(first: datetime.date, last: datetime.date) -> pa.Table:
    """One row per local day: day number, date, period (YYYY-MM), ISO weekday."""
    days = [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
    return pa.table({
        "day": pa.array([(d - EPOCH).days for d in days], pa.int64()),
        "date": pa.array(days, pa.date32()),
        "period": pa.array([d.strftime("%Y-%m") for d in days], pa.string()),
        "weekday": pa.array([d.isoweekday() for d in days], pa.int32()),
        "week": pa.array([f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}" for d in days], pa.string()),
        "week_index": pa.array([(d - FIRST_MONDAY).days // 7 for d in days], pa.int64()),
    })


def periods_table(calendar: pa.Table) -> pa.Table:
    """Consecutive pairs of the window's periods."""
    periods = sorted(set(calendar.column("period").to_pylist()))
    return pa.table({"period": pa.array(periods[:-1], pa.string()),
                     "next_period": pa.array(periods[1:], pa.string())})


def _target_population_sql() -> str:
    """Census population per area of the requested level: the area's own row, else its finest areas' sum."""
    return """
    SELECT t.target_id AS area_id, coalesce(d.population, f.population) AS population
    FROM (SELECT DISTINCT target_id FROM area_map) t
    LEFT JOIN census d ON d.area_id = t.target_id
    LEFT JOIN (SELECT m.target_id, sum(p.population) AS population
               FROM area_map m JOIN census p ON p.area_id = m.area_id GROUP BY m.target_id) f
      ON f.target_id = t.target_id
    WHERE coalesce(d.population, f.population) IS NOT NULL
    """
