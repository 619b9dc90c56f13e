"""Regions: ``code``, ``name`` and optional ``parent`` — names for the region codes people are registered in.

A region is a public place name with no person in it: the code is what a
subscriber's ``origin_region`` holds (an administrative code such as
``440000``), the name is what readers see instead (``Guangdong``). ``parent``
is the code of the region that contains it, when regions nest; a parent that is
not a region of this ingest or the lake is quarantined as ``invalid_value``.
Optional: without it, reports and the dashboard show the codes themselves.
"""

from __future__ import annotations

import pyarrow as pa

from popflow import columns as c
from popflow.ingest import checks as q
from popflow.ingest.parsing import text_sql
from popflow.ingest.source import IngestContext, SourceSpec

RECORD = q.Record(raw={"code": "code", "name": "name", "parent": "parent"}, pseudonyms=())


def parse(types: dict[str, pa.DataType], ctx: IngestContext) -> str:
    checks = q.missing("code", "name")
    parsed = f"""
        SELECT line, {text_sql('code')} AS code, {text_sql('name')} AS name, {text_sql('parent')} AS parent
        FROM raw"""
    return RECORD.query([("parsed", parsed)], checks, "code, name, parent")


def unknown_parents(accepted: str) -> str:
    """Rows whose parent is not a region code of this ingest or of the lake."""
    return f"""
    SELECT seq, '{q.INVALID_VALUE}' AS reason, 'parent' AS "column" FROM {accepted}
    WHERE parent IS NOT NULL
      AND parent NOT IN (SELECT code FROM regions UNION ALL SELECT code FROM {accepted})
    """


SOURCE = SourceSpec(
    name="regions",
    required=("code", "name"),
    optional=("parent",),
    parse=parse,
    schema={"code": "VARCHAR", c.NAME: "VARCHAR", "parent": "VARCHAR"},
    key=("code",),
    conflicts=unknown_parents,
    record=RECORD,
)
