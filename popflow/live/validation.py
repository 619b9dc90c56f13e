"""Validation and pseudonymisation of live events, by the batch ingest's own functions.

Rows from several messages (or files) are checked together as one chunk:
each row gets a chunk-wide ``line`` for the ingest SQL; ``live_lines`` gives
each its origin and own line back (see ``MicroBatch.add``), so a quarantined
row names its message (or file) and line as a batch ingest names a file and
line.
"""

from __future__ import annotations

import datetime

import numpy as np
import pyarrow as pa

from popflow.ingest.checks import register_record_hash
from popflow.ingest.events import SOURCE as EVENTS
from popflow.ingest.pipeline import check_batch
from popflow.ingest.source import IngestContext
from popflow.lake_views import create_from_lake
from popflow.live.wire import COLUMNS
from popflow.pseudonymise import KeyRing, key_schedule

LINES = "live_lines"  # chunk line → (origin, line in its message or file) of the last chunk


class Validator:
    """Checks chunks of raw event rows against the workspace's cells, keys and time zone."""

    def __init__(self, ws, con):
        self.ws, self.con = ws, con
        con.execute(f"SET TimeZone = '{ws.settings.timezone}'")
        self.ctx = IngestContext(timezone=ws.settings.timezone, keys=KeyRing(ws.path),
                                 time_window=ws.settings.time_window)
        register_record_hash(con, self.ctx.keys)  # quarantined rows keep keyed hashes of their values
        self.reload()

    def reload(self) -> None:
        """(Re)load the cells table from the lake."""
        create_from_lake(self.con, "CREATE OR REPLACE TABLE cells", self.ws.lake, "cells")

    def refresh_keys(self) -> None:
        """Take up a key scheduled by ``popflow key rotate`` while the stream runs."""
        if self.ctx.keys.dates != key_schedule(self.ws.path):
            self.ctx.keys = KeyRing(self.ws.path)

    def check(self, parts: list[tuple[int, pa.Table]]) -> str | None:
        """Check (origin, rows) parts; returns the checked table (``line`` numbers the chunk, see ``LINES``)."""
        parts = [(origin, table) for origin, table in parts if table is not None and table.num_rows]
        if not parts:
            return None
        chunk = pa.concat_tables([table.select([*COLUMNS, "line"]) for _, table in parts])
        rows = chunk.num_rows
        lines = pa.table({
            "chunk_line": pa.array(np.arange(1, rows + 1, dtype=np.int64)),
            "real_line": chunk["line"].cast(pa.int64()),
            "origin": pa.array(np.repeat([o for o, _ in parts], [t.num_rows for _, t in parts]).astype(np.int32)),
        })
        chunk = chunk.set_column(chunk.schema.get_field_index("line"), "line", lines["chunk_line"])
        self.ctx.now = datetime.datetime.now(datetime.UTC)  # the default time window ends a day after now
        checked = check_batch(self.con, EVENTS, chunk, self.ctx)
        self.con.register(LINES, lines)
        return checked
