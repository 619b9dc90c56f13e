"""Ingest on Apache Spark, for event inputs too large for one machine.

Each input file is read, pseudonymised and checked by one Spark task with the
local ingest's own code (readers with exact line numbers, the keyed
pseudonyms, the source's checking SQL run by an in-task DuckDB), so a row is
accepted or quarantined for the same reason, at the same line, whichever
engine ingests it. Spark spreads the files over its executors and writes the
staged batch: accepted rows as Parquet partitioned by local date, quarantined
rows beside them. The data-quality report is computed by Spark from the
checked rows with the local report's SQL. The batch is then committed by the
lake's one atomic rename, exactly like a local ingest; a failed job abandons
it and changes nothing.

Requirements: the input files and the workspace are paths every executor can
open (one machine, or a file system all nodes mount); executors have popflow
installed. Files are the unit of parallelism: deliver large inputs as many
files (hourly or daily dumps), since one file is read by one task.

The workspace keys travel to the executors inside the tasks (in memory,
never written by popflow); on a cluster, encrypt Spark's traffic and spills
(``spark.network.crypto.enabled``, ``spark.io.encryption.enabled``).
Sources whose rows are checked against each other (unique ticket and order
ids) and the small registers are ingested locally.
"""

from __future__ import annotations

import re
import zoneinfo
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from popflow.datasets import QUARANTINE_SCHEMA, SCHEMAS
from popflow.errors import PopflowError
from popflow.ingest import checks as q
from popflow.ingest.pipeline import Loader, check_batch, checking_connection, read_source
from popflow.ingest.quality import SPAN_SQL, TIME_COLUMNS, people_sql, quality_report
from popflow.ingest.readers import MalformedRows, check_header, detect_format
from popflow.ingest.source import IngestContext, SourceSpec
from popflow.lake import Lake, StagedBatch

FILE = "file"
QUARANTINE_FIELDS = tuple(n for n in QUARANTINE_SCHEMA if n != "source")  # file, line, reason, column, record


def spark_loader(master: str | None = None, conf: dict[str, str] | None = None) -> Loader:
    """A loader for ``popflow.ingest.pipeline.ingest`` that runs on Spark (``master`` as for releases)."""

    def load(spec: SourceSpec, files: dict[Path, str], skipped: list[Path], batch: StagedBatch,
             ctx: IngestContext, fmt: str | None, progress) -> dict:
        if spec.key or spec.conflicts or not spec.partition_by:
            raise PopflowError(f"--engine spark ingests events; {spec.name} is ingested by the default engine "
                               "(its rows are checked against each other, or it is a small register)")
        formats = {path: detect_format(path, fmt) for path in files}
        for path, kind in formats.items():  # a missing column fails here, before any task starts
            check_header(path, kind, spec.required)
        from popflow.engines.spark_engine import shared_session

        spark = shared_session(master, conf).newSession()
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        report = _load(spark, spec, formats, skipped, batch, ctx)
        if progress:
            total = sum(p.stat().st_size for p in files)
            progress(total, total)
        return report

    return load


def _load(spark, spec: SourceSpec, formats: dict[Path, str], skipped: list[Path], batch: StagedBatch,
          ctx: IngestContext) -> dict:
    """Check every file in Spark tasks, write the staged batch and return the quality report."""
    from pyspark import StorageLevel

    schema = checked_schema(batch.lake, spec, ctx)
    files = [(str(path), kind) for path, kind in formats.items()]
    listing = spark.createDataFrame(spark.sparkContext.parallelize(files, len(files)), "file string, format string")
    checked = listing.mapInArrow(file_checker(batch.lake, spec, ctx, schema), _spark_schema(schema))
    checked = checked.persist(StorageLevel.DISK_ONLY)  # read by both writes and the report: checked once
    try:
        with _task_errors():
            columns = ", ".join(f"`{n}`" for n in SCHEMAS[spec.name])
            checked.createOrReplaceTempView("checked")
            (spark.sql(f"SELECT {columns} FROM checked WHERE reason IS NULL").write.mode("append")
             .partitionBy(spec.partition_by).parquet(str(batch.data_dir)))
            fields = ", ".join(f"`{n}`" for n in QUARANTINE_FIELDS)
            (spark.sql(f"SELECT '{spec.name}' AS source, {fields} FROM checked WHERE reason IS NOT NULL")
             .write.mode("append").parquet(str(batch.quarantine_dir)))
            report = _report(spark, spec, schema, [str(p) for p in skipped], ctx.timezone)
    finally:
        checked.unpersist()
        spark.catalog.dropTempView("checked")
    _keep_parquet_only(batch)
    return report


def checked_schema(lake: Lake, spec: SourceSpec, ctx: IngestContext) -> pa.Schema:
    """Columns of a checked file as the tasks return them: the dataset's, the time, file and quarantine fields."""
    con = checking_connection(lake, ctx)
    empty = pa.table({name: pa.array([], pa.string()) for name in spec.required + spec.optional}
                     | {"line": pa.array([], pa.int64())})
    checked = con.table(check_batch(con, spec, empty, ctx)).to_arrow_table().schema
    names = [*SCHEMAS[spec.name], *(n for n in TIME_COLUMNS if n in checked.names),
             *(n for n in QUARANTINE_FIELDS if n != FILE)]
    fields = [checked.field(n) for n in dict.fromkeys(names)]
    return pa.schema([pa.field(FILE, pa.string()), *(_utc(f) for f in fields)])


def file_checker(lake: Lake, spec: SourceSpec, ctx: IngestContext, schema: pa.Schema):
    """The task: for each (file, format) row, the file's checked rows as Arrow batches of ``schema``."""

    def check_files(listings):
        con = checking_connection(lake, ctx)
        con.execute("SET threads = 1")  # one task per core: Spark parallelises across files
        for listing in listings:
            for path, kind in zip(*listing.to_pydict().values(), strict=True):
                yield from _checked_file(con, spec, Path(path), kind, ctx, schema)

    return check_files


def _checked_file(con, spec: SourceSpec, path: Path, fmt: str, ctx: IngestContext, schema: pa.Schema):
    malformed = MalformedRows()
    for table in read_source(spec, path, fmt, malformed):
        checked = con.table(check_batch(con, spec, table, ctx)).to_arrow_table()
        yield from _shaped(checked, str(path), schema).to_batches()
    if malformed.rows:
        lines = pa.array([n for n, _ in malformed.rows], pa.int64())
        rows = pa.table({"line": lines, "reason": pa.array([q.MALFORMED_ROW] * len(lines), pa.string())})
        yield from _shaped(rows, str(path), schema).to_batches()


def _shaped(table: pa.Table, path: str, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns and types: the file added, missing columns null."""
    columns = [pa.array([path] * table.num_rows, pa.string())] + [
        table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in list(schema)[1:]]
    return pa.Table.from_arrays(columns, schema=schema)


def _report(spark, spec: SourceSpec, schema: pa.Schema, skipped: list[str], timezone: str) -> dict:
    """The quality report of the checked rows, by the local report's definitions."""
    from popflow.engines.spark_sql import to_spark_sql

    reasons = Counter({r: n for r, n in spark.sql("SELECT reason, count(*) FROM checked GROUP BY reason").collect()})
    accepted = reasons.pop(None, 0)
    time_column = next((n for n in TIME_COLUMNS if n in schema.names), None)
    span = people = None
    if time_column:
        spans = f"(SELECT {time_column} AS first, {time_column} AS last FROM checked WHERE reason IS NULL)"
        local = zoneinfo.ZoneInfo(timezone)
        span = tuple(None if v is None else v.astimezone(local)
                     for v in spark.sql(to_spark_sql(SPAN_SQL.format(spans=spans))).toArrow().to_pylist()[0].values())
    if "person" in schema.names:
        spark.sql("SELECT person, count(*) AS n FROM checked WHERE reason IS NULL GROUP BY person") \
            .createOrReplaceTempView("quality_people")
        people = tuple(spark.sql(to_spark_sql(people_sql("quality_people"))).collect()[0])
        spark.catalog.dropTempView("quality_people")
    return quality_report(spec.name, accepted, reasons, skipped, span, people)


@contextmanager
def _task_errors():
    """Turns a failed Spark task into the popflow error it raised (a file that cannot be read, say)."""
    try:
        yield
    except PopflowError:
        raise
    except Exception as error:  # a task's error arrives wrapped in Spark's, its message inside
        found = re.findall(r"popflow\.errors\.\w+: (.+)", str(error))
        first = next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
        raise PopflowError(found[-1] if found else f"the Spark ingest failed: {first}") from error


def _keep_parquet_only(batch: StagedBatch) -> None:
    """Remove the checksums and success markers Spark writes beside the Parquet files."""
    for folder in (batch.data_dir, batch.quarantine_dir):
        for path in list(folder.rglob("*")):
            if path.is_file() and not path.name.endswith(".parquet"):
                path.unlink()


def _utc(field: pa.Field) -> pa.Field:
    """Instants as UTC microseconds, the form Spark exchanges them in."""
    if pa.types.is_timestamp(field.type):
        return pa.field(field.name, pa.timestamp("us", tz="UTC"))
    return field


def _spark_schema(schema: pa.Schema):
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)
