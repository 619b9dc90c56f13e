"""Ingest on Apache Spark, for event inputs too large for one machine.

Spark spreads the input files over its executors; each task runs the local
ingest on its files (``write_files``: the same readers with exact line
numbers, the same keyed pseudonyms, the same checking SQL run by an in-task
DuckDB, the same writer), so a row is accepted or quarantined for the same
reason, at the same line, whichever engine ingests it. A task writes its
Parquet into a part folder of its own inside the staged batch and returns its
quality tally as rows. The driver moves the parts of the successful task
attempts into the batch (a failed or retried attempt's part is dropped), adds
the tallies up into the quality report with the local report's SQL, and the
batch is committed by the lake's one atomic rename, exactly like a local
ingest; a failed job abandons it and changes nothing.

Requirements: the input files and the workspace are paths every executor can
open (one machine, or a file system all nodes mount); executors have popflow
installed. Files are the unit of parallelism: deliver large inputs as many
files (hourly or daily dumps), since one file is read by one task. Files are
grouped into a few tasks per core of about equal bytes.

The workspace keys travel to the executors inside the tasks (in memory,
never written by popflow); on a cluster, encrypt Spark's traffic and spills
(``spark.network.crypto.enabled``, ``spark.io.encryption.enabled``).
Sources whose rows are checked against each other (unique ticket and order
ids) and the small registers are ingested locally.
"""

from __future__ import annotations

import heapq
import re
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from popflow.engines.spark_sql import to_spark_sql
from popflow.errors import PopflowError
from popflow.ingest.pipeline import Loader, checking_connection, write_files
from popflow.ingest.quality import TALLY_SCHEMA, QualityTally, merged_report
from popflow.ingest.readers import check_header, detect_format
from popflow.ingest.source import IngestContext, SourceSpec
from popflow.lake import BatchFolders, StagedBatch

PARTS = "parts"  # folder of the staged batch where tasks write
TASKS_PER_CORE = 4  # enough tasks to even out uneven files, few enough to keep parts (and files) few
FOLDER = "folder"  # the tally column naming the part a task wrote


def spark_loader(master: str | None = None, conf: dict[str, str] | None = None) -> Loader:
    """A loader for ``popflow.ingest.pipeline.ingest`` that runs on Spark (``master`` as for releases)."""

    def load(spec: SourceSpec, files: dict[Path, str], skipped: list[Path], batch: StagedBatch,
             ctx: IngestContext, fmt: str | None, progress) -> dict:
        if spec.key or spec.conflicts or not spec.partition_by:
            raise PopflowError(f"--engine spark ingests events; {spec.name} is ingested by the default engine "
                               "(its rows are checked against each other, or it is a small register)")
        for path in files:  # a missing column fails here, before any task starts
            check_header(path, detect_format(path, fmt), spec.required, spec.optional, ctx.columns)
        from popflow.engines.spark_engine import shared_session

        spark = shared_session(master, conf).newSession()
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        report = _load(spark, spec, list(files), [str(p) for p in skipped], batch, ctx, fmt)
        if progress:
            total = sum(p.stat().st_size for p in files)
            progress(total, total, f"{len(files)} file(s)", report["rows"]["read"])
        return report

    return load


def _load(spark, spec: SourceSpec, files: list[Path], skipped: list[str], batch: StagedBatch,
          ctx: IngestContext, fmt: str | None) -> dict:
    """Ingest the files in Spark tasks, gather their parts into the batch and return the quality report."""
    from pyspark import StorageLevel
    from pyspark.sql.pandas.types import from_arrow_schema

    sizes = {str(f): f.stat().st_size for f in files}
    groups = balanced_groups(sizes, TASKS_PER_CORE * spark.sparkContext.defaultParallelism)
    tasks = spark.sparkContext.parallelize(groups, len(groups)).flatMap(lambda group: [(f,) for f in group])
    listing = spark.createDataFrame(tasks, "file string")
    schema = TALLY_SCHEMA.append(pa.field(FOLDER, pa.string()))
    tallies = listing.mapInArrow(file_ingester(batch, spec, ctx, fmt), from_arrow_schema(schema))
    tallies = tallies.persist(StorageLevel.MEMORY_AND_DISK)  # read by each query of the report: run once
    tallies.createOrReplaceTempView("tallies")
    try:
        with _task_errors():
            parts = [folder for (folder,) in spark.sql(f"SELECT DISTINCT {FOLDER} FROM tallies").collect()]
            report = merged_report(spec.name, skipped, lambda sql: _rows(spark, sql), ctx.timezone)
    finally:
        tallies.unpersist()
        spark.catalog.dropTempView("tallies")
    for name in parts:
        batch.adopt(batch.folder / PARTS / name, name)
    shutil.rmtree(batch.folder / PARTS, ignore_errors=True)  # parts of failed task attempts
    return report


def balanced_groups(sizes: dict[str, int], count: int) -> list[list[str]]:
    """Files (name → bytes) in at most ``count`` groups of about equal bytes.

    Largest file first, each to the group with the fewest bytes so far (so no
    group exceeds an even share by more than one file).
    """
    groups: list[list[str]] = [[] for _ in range(min(count, len(sizes)))]
    lightest = [(0, 0, number) for number in range(len(groups))]  # (bytes, files, group): empty groups first
    for name in sorted(sizes, key=lambda n: (-sizes[n], n)):
        total, members, number = heapq.heappop(lightest)
        groups[number].append(name)
        heapq.heappush(lightest, (total + sizes[name], members + 1, number))
    return groups


def file_ingester(batch: StagedBatch, spec: SourceSpec, ctx: IngestContext, fmt: str | None):
    """The task: ingest its listed files into a new part folder; yield its quality tally as rows."""
    lake, parts = batch.lake, batch.folder / PARTS

    def ingest_files(listings):
        files = [Path(f) for listing in listings for f in listing.column("file").to_pylist()]
        part = BatchFolders(parts / uuid.uuid4().hex[:16])
        con = checking_connection(lake, ctx, spec)
        con.execute("SET threads = 1")  # a task per core: Spark parallelises across files
        tally = QualityTally(spec.name, [])
        write_files(con, spec, files, part, ctx, fmt, tally)
        rows = tally.rows(con)
        yield from rows.append_column(FOLDER, pa.array([part.folder.name] * rows.num_rows)).to_batches()

    return ingest_files


def _rows(spark, sql: str) -> list[tuple]:
    """A DuckDB-dialect query's rows from Spark (instants as aware UTC datetimes)."""
    return [tuple(row.values()) for row in spark.sql(to_spark_sql(sql)).toArrow().to_pylist()]


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
