"""The data-quality report of an ingest: rows read, accepted and quarantined by reason,
time span, distinct people and records per person (percentiles)."""

from __future__ import annotations

import zoneinfo
from collections import Counter
from collections.abc import Callable

import pyarrow as pa

from popflow.ingest.registry import SOURCES

PERCENTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.99)
# A tally as rows: reason counts (accepted under a NULL reason), the time span, records per person.
TALLY_SCHEMA = pa.schema([("kind", pa.string()), ("reason", pa.string()), ("n", pa.int64()),
                          ("person", pa.int64()), ("first", pa.timestamp("us", tz="UTC")),
                          ("last", pa.timestamp("us", tz="UTC"))])


class QualityTally:
    """Accumulates counts batch by batch, then reports them."""

    def __init__(self, source: str, skipped_files: list[str]):
        self.source = source
        self.skipped_files = skipped_files
        self.accepted = 0
        self.reasons: Counter[str] = Counter()
        self.has_people = False
        self.has_time = False
        self.outside_areas = 0

    def add_checked(self, con, checked: str, people: bool = True) -> None:
        """Count a checked batch and remember who (unless ``people`` is false: see ``add_people``) and when it
        covers, in one pass over it."""
        cols = {r[0] for r in con.execute(f"DESCRIBE {checked}").fetchall()}
        person = "person" if "person" in cols else "NULL::BIGINT"
        when = SOURCES[self.source].time_column
        span = f"min({when}) AS first, max({when}) AS last" if when else "NULL AS first, NULL AS last"
        con.execute(f"CREATE OR REPLACE TEMP TABLE quality_batch AS SELECT reason, "
                    f"{person if people else 'NULL::BIGINT'} AS person, count(*) AS n, {span} "
                    f"FROM {checked} GROUP BY ALL")
        for reason, n in con.execute("SELECT reason, sum(n) FROM quality_batch GROUP BY reason").fetchall():
            if reason is None:
                self.accepted += n
            else:
                self.reasons[reason] += n
        if self.source == "cells":  # cells alone are kept outside every area (their events are quarantined)
            self.outside_areas += con.execute(
                f"SELECT count(*) FROM {checked} WHERE reason IS NULL AND area_id IS NULL").fetchall()[0][0]
        if "person" in cols:  # without ``people``, only made (empty) for add_people to fill
            self._accumulate(con, "quality_people", "SELECT person, n FROM quality_batch WHERE reason IS NULL"
                                                    + ("" if people else " LIMIT 0"))
            self.has_people = True
        if when:
            self._accumulate(con, "quality_span", "SELECT min(first) AS first, max(last) AS last FROM quality_batch "
                                                  "WHERE reason IS NULL")
            self.has_time = True

    def add_people(self, con, accepted: str) -> None:
        """Count the records of each person among ``accepted`` rows, counted earlier without their people."""
        self._accumulate(con, "quality_people", f"SELECT person, count(*) AS n FROM {accepted} GROUP BY person")

    def add_malformed(self, count: int) -> None:
        self.reasons["malformed_row"] += count

    def move_to_quarantine(self, con, reasons_sql: str) -> None:
        """Rows accepted earlier but quarantined by a rule over the whole ingest."""
        for (reason,) in con.execute(reasons_sql).fetchall():
            self.accepted -= 1
            self.reasons[reason] += 1

    @staticmethod
    def _accumulate(con, table: str, query: str) -> None:
        exists = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary", [table]
        ).fetchall()[0][0]
        verb = f"INSERT INTO {table}" if exists else f"CREATE TEMP TABLE {table} AS"
        con.execute(f"{verb} {query}")

    def rows(self, con) -> pa.Table:
        """The tally as ``TALLY_SCHEMA`` rows, which ``merged_report`` adds up with other tallies'."""
        reasons = [(None, self.accepted), *self.reasons.items()]
        parts = [pa.table({"kind": ["reason"] * len(reasons), "reason": [r for r, _ in reasons],
                           "n": [n for _, n in reasons]})]
        if self.has_time:
            parts.append(con.sql(f"SELECT 'span' AS kind, * FROM ({SPAN_SQL.format(spans='quality_span')})")
                         .to_arrow_table())
        if self.has_people:  # a 'people' row says the source has people even when none was accepted
            parts.append(con.sql("SELECT 'people' AS kind, NULL::BIGINT AS person, NULL::BIGINT AS n UNION ALL "
                                 "SELECT 'person', person, sum(n)::BIGINT FROM quality_people GROUP BY person")
                         .to_arrow_table())
        return pa.concat_tables([_conform(t) for t in parts])

    def report(self, con) -> dict:
        span = con.execute(SPAN_SQL.format(spans="quality_span")).fetchall()[0] if self.has_time else None
        people = con.execute(people_sql("quality_people")).fetchall()[0] if self.has_people else None
        return quality_report(self.source, self.accepted, self.reasons, self.skipped_files, span, people,
                              self.outside_areas if self.source == "cells" else None)


SPAN_SQL = "SELECT min(first) AS first, max(last) AS last FROM {spans}"


def people_sql(per_person: str) -> str:
    """Distinct people and percentiles of records per person, from rows ``(person, n)`` of ``per_person``."""
    quantiles = ", ".join(f"quantile_cont(n, {p})" for p in PERCENTILES)
    return f"SELECT count(*), {quantiles} FROM (SELECT person, sum(n) AS n FROM {per_person} GROUP BY person)"


def merged_report(source: str, skipped_files: list[str], query: Callable[[str], list[tuple]],
                  timezone: str) -> dict:
    """The report of several tallies whose ``rows`` are the relation ``tallies``; ``query`` runs SQL on it."""
    totals = query("SELECT kind, reason, sum(n), min(first), max(last) FROM tallies WHERE kind <> 'person' "
                   "GROUP BY kind, reason")
    reasons = Counter({reason: int(n) for kind, reason, n, _, _ in totals if kind == "reason"})
    accepted = reasons.pop(None, 0)
    local = zoneinfo.ZoneInfo(timezone)
    span = next((tuple(None if v is None else v.astimezone(local) for v in (first, last))
                 for kind, _, _, first, last in totals if kind == "span"), None)
    people = None
    if any(kind == "people" for kind, *_ in totals):
        people = query(people_sql("(SELECT person, n FROM tallies WHERE kind = 'person')"))[0]
    return quality_report(source, accepted, reasons, skipped_files, span, people)


def quality_report(source: str, accepted: int, reasons: Counter, skipped_files: list[str],
                   span: tuple | None = None, people: tuple | None = None,
                   outside_areas: int | None = None) -> dict:
    """The report: rows read, accepted and quarantined by reason; time span ``(first, last)``;
    ``people`` as the row of ``people_sql``; cells outside every area."""
    quarantined = sum(reasons.values())
    report = {
        "source": source,
        "rows": {"read": accepted + quarantined, "accepted": accepted, "quarantined": quarantined},
        "quarantined_by_reason": dict(sorted(reasons.items())),
        "files_already_ingested": skipped_files,
    }
    if outside_areas is not None:
        report["cells_outside_every_area"] = outside_areas
    if span is not None:
        report["time_span"] = {"first": _iso(span[0]), "last": _iso(span[1])}
    if people is not None:
        report["distinct_people"] = people[0]
        report["records_per_person"] = {f"p{round(p * 100)}": (None if v is None else round(v, 1))
                                        for p, v in zip(PERCENTILES, people[1:], strict=True)}
    return report


def _conform(table: pa.Table) -> pa.Table:
    columns = [table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
               for f in TALLY_SCHEMA]
    return pa.Table.from_arrays(columns, schema=TALLY_SCHEMA)


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()
