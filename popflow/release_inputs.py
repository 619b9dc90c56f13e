"""The relations an indicator reads, prepared on an engine for one release window.

See ``popflow.indicators.base`` for the relations and their columns.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

import pyarrow as pa

from popflow.disclosure.domains import Domains
from popflow.errors import PopflowError

EPOCH = datetime.date(1970, 1, 1)
QUERY_SET_MESSAGE = "the requested window or filter covers too few people to release anything"


@dataclass(frozen=True)
class ReleaseWindow:
    """The local dates a release covers, with its calendar and area map."""

    first: datetime.date
    last: datetime.date
    calendar: pa.Table
    area_map: pa.Table

    def domains(self, p) -> Domains:
        """Public key domains of this window (DP mode releases every such cell)."""
        return Domains.for_window(self.calendar, self.area_map, getattr(p, "bin", None))


def prepare_inputs(eng, ws, p, area_map: pa.Table, k: int) -> ReleaseWindow:
    """Register events, subscribers, area_map, calendar, periods and target_population."""
    first, last = _window(eng, p)
    margin = math.ceil(getattr(p, "carry", 0) / 24)
    eng.create_view("events", (
        "SELECT person, t, area_id, date, mcc FROM lake_events WHERE date BETWEEN "
        f"DATE '{first - datetime.timedelta(days=margin)}' AND DATE '{last + datetime.timedelta(days=1)}'"))
    _refuse_small_query_set(eng, first, last, k)
    eng.create_view("subscribers", "SELECT person, gender, age_band, origin_region FROM lake_subscribers")
    eng.register("area_map", area_map)
    calendar = calendar_table(first, last)
    eng.register("calendar", calendar)
    eng.register("periods", periods_table(calendar))
    eng.create_view("target_population", _target_population_sql())
    return ReleaseWindow(first, last, calendar, area_map)


def _window(eng, p) -> tuple[datetime.date, datetime.date]:
    span = eng.table("SELECT min(date) AS first, max(date) AS last FROM lake_events").to_pylist()[0]
    if span["first"] is None:
        raise PopflowError("no events in the workspace: ingest events first")
    first = p.date_from or span["first"]
    last = p.date_to or span["last"]
    if first > last:
        raise PopflowError("--from is after --to")
    return first, last


def _refuse_small_query_set(eng, first: datetime.date, last: datetime.date, k: int) -> None:
    """Refuse a window holding fewer than k people, without saying how many it holds."""
    in_window = f"FROM events WHERE date BETWEEN DATE '{first}' AND DATE '{last}'"
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
    LEFT JOIN lake_population d ON d.area_id = t.target_id
    LEFT JOIN (SELECT m.target_id, sum(p.population) AS population
               FROM area_map m JOIN lake_population p ON p.area_id = m.area_id GROUP BY m.target_id) f
      ON f.target_id = t.target_id
    WHERE coalesce(d.population, f.population) IS NOT NULL
    """
