"""One ingest: read files, pseudonymise, validate, quarantine, report, commit atomically.

Nothing is visible in the lake until the batch is committed by one directory
rename; a failure at any point abandons the staged batch and changes nothing.
Files whose content was already ingested for this source are skipped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import threading
from collections.abc import Callable
from pathlib import Path
from queue import Empty, Queue

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from popflow import columns as c
from popflow import reference_data
from popflow.datasets import empty_select
from popflow.ingest import checks as q
from popflow.ingest.column_map import checked_column_map
from popflow.ingest.quality import QualityTally
from popflow.ingest.readers import (
    MalformedRows,
    detect_format,
    expand_paths,
    fingerprint,
    read_batches,
)
from popflow.ingest.registry import source as source_spec
from popflow.ingest.source import IngestContext, SourceSpec
from popflow.lake import BatchFolders, Lake, StagedBatch, ingest_lock
from popflow.lake_views import register_lake
from popflow.sql import literal, literals

# Hears of each batch read: bytes of whole files done, bytes of all files, the file being read, its rows so far.
Progress = Callable[[int, int, str, int], None]
# Writes the rows of new files into a staged batch and returns the data-quality report.
Loader = Callable[..., dict]


def ingest(lake: Lake, source: str, paths: list[Path], ctx: IngestContext,
           fmt: str | None = None, progress: Progress | None = None, load: Loader | None = None) -> dict:
    """Ingest files into ``source``; returns the data-quality report.

    ``load(spec, files, skipped, batch, ctx, fmt, progress)`` does the reading,
    checking and writing into the staged batch: by default here, with DuckDB
    and Arrow (``load_locally``); ``popflow.ingest.spark_load`` does it on Spark.
    """
    spec = source_spec(source)
    ctx = dataclasses.replace(ctx, columns=checked_column_map(spec, ctx.columns))
    files = expand_paths(paths)
    with ingest_lock(lake.workspace):  # one ingest at a time sees the lake, stages and commits
        new, skipped = _new_files(lake, source, files, "" if spec.partition_by else ctx.keys.schedule_id)
        if not new:
            return QualityTally(source, [str(f) for f in skipped]).report(None)
        batch = lake.new_batch(source)
        try:
            report = (load or load_locally)(spec, new, skipped, batch, ctx, fmt, progress)
            batch.commit({
                "id": batch.id, "source": source,
                "committed_at": datetime.datetime.now(datetime.UTC).isoformat(),
                "inputs": [{"file": str(f), "sha256": fp} for f, fp in new.items()],
                "quality": report,
            })
        except BaseException:
            batch.abandon()
            raise
    return report


def load_locally(spec: SourceSpec, files: dict[Path, str], skipped: list[Path], batch: StagedBatch,
                 ctx: IngestContext, fmt: str | None, progress: Progress | None) -> dict:
    """Read, pseudonymise and check the files in this process, writing the batch with DuckDB."""
    con = checking_connection(batch.lake, ctx, spec)
    tally = QualityTally(spec.name, [str(f) for f in skipped])
    write_files(con, spec, list(files), batch, ctx, fmt, tally, progress)
    return tally.report(con)


# Reference tables the sources' checks may read, by the name their SQL uses (``SourceSpec.references``).
REFERENCE_TABLES = {"ref_airports": reference_data.airports, "ref_currencies": reference_data.currencies}


def checking_connection(lake: Lake, ctx: IngestContext, spec: SourceSpec | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with what checks read: the lake and the reference tables ``spec`` names (all of
    them when no source is given)."""
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{ctx.timezone}'")
    # Rows may be checked and written in any order (every query that needs one says ORDER BY): faster.
    con.execute("SET preserve_insertion_order = false")
    register_lake(con, lake)
    q.register_record_hash(con, ctx.keys)
    for name in (spec.references if spec else REFERENCE_TABLES):
        con.register(name, REFERENCE_TABLES[name]())
    return con


def _new_files(lake: Lake, source: str, files: list[Path], keys: str) -> tuple[dict[Path, str], list[Path]]:
    """Files not yet ingested; a register re-ingested after a key rotation counts as new."""
    seen = lake.fingerprints(source)
    new, skipped = {}, []
    for path in files:
        fp = fingerprint(path) + (f"@{keys}" if keys else "")
        if fp in seen:
            skipped.append(path)
        else:
            seen.add(fp)
            new[path] = fp
    return new, skipped


def write_files(con, spec: SourceSpec, files: list[Path], target: BatchFolders, ctx: IngestContext,
                fmt: str | None, tally: QualityTally, progress: Progress | None = None) -> None:
    """Read, pseudonymise and check the files, writing into ``target``'s data and quarantine folders."""
    total = sum(p.stat().st_size for p in files)
    done, rows = 0, 0
    writer = BatchWriter(con, spec, target)
    for path, malformed, table in prefetched(_prepared_batches(spec, files, fmt, ctx)):
        if table is not None:
            with _registered(con, table):
                writer.write_parsed(spec.parse(_types(table), ctx), table.num_rows, str(path), tally)
            rows += table.num_rows
        else:
            writer.write_malformed(malformed, str(path), tally)
            done += path.stat().st_size
        if progress:
            progress(done, total, path.name, rows)
        if table is None:
            rows = 0
    writer.finish(tally)


def _prepared_batches(spec: SourceSpec, files: list[Path], fmt, ctx: IngestContext):
    """(path, malformed rows, pseudonymised batch); the batch is None at a file's end."""
    for path in files:
        malformed = MalformedRows()
        for table in _read(spec, path, fmt, malformed, ctx):
            yield path, malformed, _prepare(spec, table, ctx)
        yield path, malformed, None


def prefetched(items, depth: int = 1):
    """Iterate ``items`` while a background thread produces the next ones.

    Reading and pseudonymising the next batch then overlaps with the engine
    validating and writing the current one. An error in the producer is raised
    in the consumer; a consumer that stops early stops the producer.
    """
    queue: Queue = Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce():
        try:
            for item in items:
                if stop.is_set():
                    return
                queue.put(item)
            queue.put(done)
        except BaseException as exc:  # handed to the consumer
            queue.put(exc)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                queue.get_nowait()
            except Empty:
                thread.join(0.05)


def _read(spec: SourceSpec, path: Path, fmt: str | None, malformed: MalformedRows, ctx: IngestContext):
    if spec.read:
        yield spec.read(path)
        return
    yield from read_batches(path, detect_format(path, fmt), spec.required, spec.optional, malformed, ctx.columns)


def _prepare(spec: SourceSpec, table: pa.Table, ctx: IngestContext) -> pa.Table:
    """Trim text (empty becomes NULL), pseudonymise the person column and linked ids, add source columns."""
    for index, field in enumerate(table.schema):
        if _is_text(field.type):
            table = table.set_column(index, field.name, _blank_to_null(table[field.name]))
        elif pa.types.is_dictionary(field.type) and _is_text(field.type.value_type):
            table = table.set_column(index, field.name, pa.chunked_array(
                [pa.DictionaryArray.from_arrays(chunk.indices, _blank_to_null(chunk.dictionary))
                 for chunk in table[field.name].chunks], pa.dictionary(field.type.index_type, pa.string())))
    for name in spec.linked_ids:
        table = table.set_column(table.schema.get_field_index(name), name,
                                 ctx.keys.linked(table[name].cast(pa.string())))
    if spec.person_column:
        table = _pseudonymise(spec, table, ctx)
    return spec.prepare(table, ctx) if spec.prepare else table


def _pseudonymise(spec: SourceSpec, table: pa.Table, ctx: IngestContext) -> pa.Table:
    """Replace the raw identifier by its pseudonym(s).

    Dated sources get one column per key (``person``, ``person__1`` …) for the
    SQL to choose from by date; registers get one copy of each row per key.
    """
    index = table.schema.get_field_index(spec.person_column)
    pseudonyms = ctx.keys.columns(table[spec.person_column])
    if spec.partition_by:
        table = table.set_column(index, c.PERSON, pseudonyms[0])
        for number, column in enumerate(pseudonyms[1:], start=1):
            table = table.append_column(f"{c.PERSON}__{number}", column)
        return table
    return pa.concat_tables([table.set_column(index, c.PERSON, column) for column in pseudonyms])


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _blank_to_null(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    text = pc.utf8_trim_whitespace(values.cast(pa.string()))
    return pc.if_else(pc.equal(text, ""), None, text)


def check_batch(con, spec: SourceSpec, table: pa.Table, ctx: IngestContext) -> str:
    """Pseudonymise and check a raw batch; returns the name of the checked temp table."""
    return _check(con, spec, _prepare(spec, table, ctx), ctx)


# Rows per chunk of a batch handed to DuckDB, which scans an Arrow table's chunks in parallel.
SCAN_CHUNK_ROWS = 122_880


def _check(con, spec: SourceSpec, table: pa.Table, ctx: IngestContext) -> str:
    with _registered(con, table):
        con.execute(f"CREATE OR REPLACE TEMP TABLE checked AS {spec.parse(_types(table), ctx)}")
    return "checked"


@contextlib.contextmanager
def _registered(con, table: pa.Table):
    """``table`` as the relation ``raw`` that a source's parse query reads, while the block runs."""
    con.register("raw", pa.Table.from_batches(table.to_batches(max_chunksize=SCAN_CHUNK_ROWS), table.schema))
    try:
        yield
    finally:
        con.unregister("raw")


def _types(table: pa.Table) -> dict[str, pa.DataType]:
    return {name: table.schema.field(name).type for name in table.schema.names}


class BatchWriter:
    """Writes accepted rows and quarantined rows of a staged batch (or of one part of it)."""

    def __init__(self, con, spec: SourceSpec, batch: BatchFolders):
        self.con, self.spec, self.batch = con, spec, batch
        self.cols = ", ".join(f'"{n}"' for n in spec.schema)
        self.parts = 0
        self.written = False  # whether write_parsed wrote rows, whose people finish counts
        self.seq = 0  # rows of keyed sources are numbered in input order, across files
        self.keyed = bool(spec.key or spec.conflicts)
        if self.keyed:
            con.execute(f"CREATE OR REPLACE TEMP TABLE accepted AS SELECT {self.cols}, "
                        "0::BIGINT AS seq, ''::VARCHAR AS file, 0::BIGINT AS line "
                        f"FROM ({empty_select(spec.schema)})")

    def write_parsed(self, parsed: str, rows: int, file: str, tally: QualityTally) -> None:
        """Write the rows of ``parsed``, a source's parse query giving one row per row of the batch ``raw``
        (``rows`` rows).

        The accepted rows go from the query straight into the data files.
        When they are all the rows, a light pass over the query counts them
        with their time span, without classifying them again; otherwise one
        pass tallies the rows by reason and another writes the refused ones to
        the quarantine. The people of the accepted rows are counted from the
        data files, by ``finish``. Keyed sources check the batch into a table,
        as ``write`` reads it.
        """
        if self.keyed:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE checked AS {parsed}")
            self.write("checked", file, tally)
            return
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW parsed AS {parsed}")
        accepted = self._write_data("parsed WHERE reason IS NULL")
        self.written = self.written or accepted > 0
        if accepted == rows:
            self.con.execute("CREATE OR REPLACE TEMP VIEW accepted_rows AS "
                             "SELECT * REPLACE (NULL::VARCHAR AS reason) FROM parsed")
            tally.add_checked(self.con, "accepted_rows", people=False)
        else:
            tally.add_checked(self.con, "parsed", people=False)
            self._quarantine_refused("parsed", file)

    def write(self, checked: str, file: str, tally: QualityTally) -> None:
        """Write the rows of a checked table (a parse query's result)."""
        tally.add_checked(self.con, checked)
        self._quarantine_refused(checked, file)
        good = f"SELECT * FROM {checked} WHERE reason IS NULL"
        if self.keyed:
            self.con.execute(f"INSERT INTO accepted SELECT {self.cols}, "
                             f"{self.seq} + row_number() OVER (ORDER BY line), {literal(file)}, line "
                             f"FROM ({good})")
            self.seq = self.con.execute("SELECT coalesce(max(seq), 0) FROM accepted").fetchall()[0][0]
        else:
            self._write_data(f"({good})")

    def write_malformed(self, malformed: MalformedRows, file: str, tally: QualityTally) -> None:
        if not malformed.rows:
            return
        lines = pa.table({"line": [n for n, _ in malformed.rows]}, schema=pa.schema([("line", pa.int64())]))
        self.con.register("malformed", lines)
        self._quarantine(f"SELECT {literal(file)} AS file, line, '{q.MALFORMED_ROW}' AS reason, "
                         "NULL AS \"column\", NULL AS record FROM malformed")
        tally.add_malformed(len(malformed.rows))

    def finish(self, tally: QualityTally) -> None:
        """Tally the rows ``write_parsed`` wrote; for keyed sources, quarantine the conflicts and write the rest."""
        if self.written:
            tally.add_people(self.con, f"read_parquet({literal(self.batch.data_dir / '**' / '*.parquet')})")
        if not self.keyed:
            return
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE conflicting AS {self._conflicts_sql()}")
        record = self.spec.record.of_accepted("a", list(self.spec.schema)) if self.spec.record else "NULL"
        self._quarantine(f"SELECT a.file, a.line, x.reason, x.\"column\", {record} AS record "
                         "FROM accepted a JOIN conflicting x USING (seq)")
        tally.move_to_quarantine(self.con, "SELECT reason FROM conflicting")
        self._write_data("accepted WHERE seq NOT IN (SELECT seq FROM conflicting) ORDER BY seq")

    def _conflicts_sql(self) -> str:
        parts = []
        if self.spec.key:
            key = ", ".join(self.spec.key)
            same = " AND ".join(f"a.{k} IS NOT DISTINCT FROM x.{k}" for k in self.spec.key)  # empty keys match
            parts.append(
                f"SELECT seq, '{q.DUPLICATE_KEY}' AS reason, '{self.spec.key[0]}' AS \"column\" FROM "
                f"(SELECT seq, row_number() OVER (PARTITION BY {key} ORDER BY seq) AS n FROM accepted) "
                f"WHERE n > 1 UNION ALL SELECT seq, '{q.DUPLICATE_KEY}', '{self.spec.key[0]}' "
                f"FROM accepted a SEMI JOIN {self.spec.name} x ON {same}")
        if self.spec.conflicts:
            parts.append(self.spec.conflicts("accepted"))
        union = " UNION ALL ".join(f"({p})" for p in parts)
        return f"SELECT seq, min(reason) AS reason, min(\"column\") AS \"column\" FROM ({union}) GROUP BY seq"

    def _write_data(self, rows: str) -> int:
        """Write the dataset's columns of ``rows`` (what follows FROM) into the data folder; returns their number."""
        query = f"SELECT {self.cols} FROM {rows}"
        if self.spec.vocabularies:  # each such column as a dictionary of its vocabulary
            query = "SELECT * REPLACE (" + ", ".join(
                f'"{n}"::ENUM({literals(words)}) AS "{n}"' for n, words in self.spec.vocabularies.items()
            ) + f") FROM ({query})"
        target = self.batch.data_dir
        if self.spec.partition_by:
            copy = (f"COPY ({query}) TO {literal(target)} (FORMAT parquet, PARTITION_BY "
                    f"({self.spec.partition_by}), FILENAME_PATTERN 'part-{self.parts}-{{i}}', "
                    "OVERWRITE_OR_IGNORE true)")
        else:
            copy = f"COPY ({query}) TO {literal(target / f'part-{self.parts}.parquet')} (FORMAT parquet)"
        self.parts += 1
        return self.con.execute(copy).fetchall()[0][0]

    def _quarantine_refused(self, checked: str, file: str) -> None:
        self._quarantine(f"SELECT {literal(file)} AS file, line, reason, \"column\", record "
                         f"FROM {checked} WHERE reason IS NOT NULL")

    def _quarantine(self, query: str) -> None:
        target = self.batch.quarantine_dir / f"part-{self.parts}.parquet"
        self.con.execute(f"COPY (SELECT '{self.spec.name}' AS source, * FROM ({query})) "
                         f"TO {literal(target)} (FORMAT parquet)")
        self.parts += 1


