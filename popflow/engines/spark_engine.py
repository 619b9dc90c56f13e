"""The Apache Spark engine: the same DuckDB-dialect SQL, transpiled by SQLGlot, over the same lake.

Indicators, release inputs and disclosure control are written once, in DuckDB
dialect; every statement goes through ``to_spark_sql``. The lake is read from
the same committed Parquet files as DuckDB reads, with the declared schemas.

Sessions: with a ``local[...]``, ``yarn``, ``spark://`` or ``k8s://`` master one
SparkSession is started per process (start-up takes seconds) and each engine
works in its own ``newSession()``: temporary views and SQL settings (time
zone, shuffle partitions) are private, the cluster and the cache are shared.
With an ``sc://host:port`` master (Spark Connect) each engine opens its own
session on the server.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from popflow.engines import LAKE_PREFIX
from popflow.engines.spark_sql import referenced_tables, split_ctes, to_spark_sql
from popflow.errors import PopflowError
from popflow.ingest.registry import SOURCES
from popflow.lake import DATA

DEFAULT_MASTER = "local[*]"
MASTER_ENV = "POPFLOW_SPARK_MASTER"  # used when the caller passes no master
CONNECT = "sc://"
SHUFFLE_BYTES = 16 * 2**20  # Parquet bytes of events per shuffle partition
SPARK_TYPES = {"VARCHAR": "string", "BIGINT": "bigint", "INTEGER": "int", "DOUBLE": "double",
               "DATE": "date", "TIMESTAMPTZ": "timestamp"}
# Settings a popflow driver starts with unless the caller overrides them.
BASE_CONF = {
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.adaptive.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
    # Generated classes kept for reuse. A release generates some 70-120; with Spark's default of 100 each
    # release compiled most of its classes again (Janino on the driver) and the JVM then recompiled them
    # to machine code, seconds of CPU per release competing with the tasks.
    "spark.sql.codegen.cache.maxEntries": "1000",
    # A plan's text (written for Spark's own logs and listeners) is cut here: the text of a release whose stays,
    # visits and weights are all inlined ran the driver out of heap before the query ran.
    "spark.sql.maxPlanStringLength": str(2**20),
}
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    # Stat the lake's files in the driver: a listing job per dataset costs seconds on one machine.
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
}

_lock = threading.Lock()
_base = None  # the process's SparkSession (not Spark Connect), started on first use


class SparkEngine:
    """Runs indicator SQL with Spark SQL over the workspace's committed Parquet files."""

    name = "spark"

    def __init__(self, workspace, master: str | None = None, conf: dict[str, str] | None = None):
        conf = {str(k): str(v) for k, v in (conf or {}).items()}
        master = master or os.environ.get(MASTER_ENV)
        self.connect = bool(master and master.startswith(CONNECT))
        self.spark = connect_session(master) if self.connect else shared_session(master, conf).newSession()
        for key, value in session_conf(self.spark, workspace, conf, self.connect).items():
            self.spark.conf.set(key, value)
        self._views: list[str] = []
        self._cached: list[str] = []  # materialized (persisted) tables
        # Relations defined but not yet read by any statement: a release defines every relation an indicator
        # may read, and each view or Arrow table registered costs the driver tens of milliseconds.
        self._deferred: dict[str, Callable[[], None]] = {}
        self._lake = workspace.lake
        self._statements = 0

    @staticmethod
    def ingest_loader(master: str | None = None, conf: dict[str, str] | None = None):
        """Ingest with Spark: files read, pseudonymised and checked by Spark tasks, one per file."""
        from popflow.ingest.spark_load import spark_loader

        return spark_loader(master, conf)

    def register(self, name: str, table: pa.Table) -> None:
        self._define(name, lambda: self.register_frame(name, self.spark.createDataFrame(table)))

    def register_frame(self, name: str, frame) -> None:
        """Make a Spark DataFrame queryable as ``name``."""
        frame.createOrReplaceTempView(name)
        self._views.append(name)

    def create_view(self, name: str, sql: str) -> None:
        self._define(name, lambda: self._create_view(name, sql))

    def _create_view(self, name: str, sql: str) -> None:
        spark_sql = self._prepare(sql)
        self.spark.sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {spark_sql}")
        self._views.append(name)

    def _define(self, name: str, create: Callable[[], None]) -> None:
        """Create relation ``name`` when a statement first reads it; a relation already in use is replaced now."""
        self._deferred[name] = create
        if name in self._views:
            self._deferred.pop(name)()

    def materialize(self, name: str, sql: str) -> None:
        # A persisted DataFrame, not CACHE TABLE: a cached view's SQL is re-analysed at each use and its
        # CTEs get new ids, so Spark would not recognise the cache and would recompute the query.
        if name in self._cached:
            self.spark.catalog.uncacheTable(name)
        with self._query(sql) as frame:
            frame = frame.persist()
            frame.count()  # computes and keeps it now, as DuckDB's CREATE TABLE does
            self.register_frame(name, frame)  # while its steps exist: Spark Connect resolves views by name
        self._deferred.pop(name, None)  # an earlier definition not yet created is replaced too
        self._cached.append(name)

    def table(self, sql: str) -> pa.Table:
        with self._query(sql) as frame:
            return duckdb_types(frame.toArrow())

    def close(self) -> None:
        """Free this engine's cached tables and views; a local or cluster SparkSession stays up for reuse."""
        for name in dict.fromkeys(self._cached):
            self.spark.catalog.uncacheTable(name)
        for name in dict.fromkeys(self._views):
            self.spark.catalog.dropTempView(name)
        self._cached.clear()
        self._views.clear()
        self._deferred.clear()
        if self.connect:
            self.spark.stop()

    def _prepare(self, sql: str) -> str:
        """The statement in Spark SQL, with the deferred relations and lake datasets it reads created."""
        spark_sql = to_spark_sql(sql)
        for name in referenced_tables(spark_sql):
            source = name.removeprefix(LAKE_PREFIX)
            if name in self._deferred:
                self._deferred.pop(name)()
            elif name not in self._views and name.startswith(LAKE_PREFIX) and source in SOURCES:
                self.register_frame(name, lake_frame(self.spark, self._lake.data_files(source),
                                                     SOURCES[source].schema))
        return spark_sql

    @contextmanager
    def _query(self, sql: str):
        """The statement as a DataFrame; CTEs read more than once are computed once and freed afterwards."""
        self._statements += 1
        steps, main = split_ctes(self._prepare(sql), f"_popflow_{self._statements}_")
        shared = []
        try:
            for step in steps:
                frame = self.spark.sql(step.sql)
                if step.shared:
                    shared.append(frame.persist())
                frame.createOrReplaceTempView(step.name)
            yield self.spark.sql(main)
        finally:
            for frame in shared:
                frame.unpersist()
            for step in steps:
                self.spark.catalog.dropTempView(step.name)


def shared_session(master: str | None = None, conf: dict[str, str] | None = None):
    """The process's SparkSession, started on first use with ``master`` and ``conf``."""
    global _base
    pyspark_sql = _import_pyspark()
    with _lock:
        if _base is None or _base.sparkContext._jsc is None:
            _base = _start(pyspark_sql.SparkSession.builder, master or os.environ.get(MASTER_ENV), conf or {})
        else:
            _refuse_changes(_base, master, conf or {})
        return _base


def _refuse_changes(session, master: str | None, conf: dict[str, str]) -> None:
    """A running session keeps its master and start-up settings; only ``spark.sql.*`` change per engine."""
    running = session.sparkContext.getConf()
    if master and session.sparkContext.master != master:
        raise PopflowError(f"a Spark session with master {session.sparkContext.master} is already running "
                           f"in this process; it cannot switch to {master}")
    for key, value in conf.items():
        if not key.startswith("spark.sql.") and running.get(key) != value:
            raise PopflowError(f"the running Spark session has {key}={running.get(key)}; start a new process "
                               f"to use {value}")


def stop_shared_session() -> None:
    """Stop the process's SparkSession (the next engine starts a new one)."""
    global _base
    with _lock:
        if _base is not None:
            _base.stop()
        _base = None


def connect_session(url: str):
    """A new session on a Spark Connect server (``sc://host:port``)."""
    return _import_pyspark().SparkSession.builder.remote(url).create()


def _import_pyspark():
    try:
        import pyspark.sql
        import sqlglot  # noqa: F401
    except ImportError as e:
        raise PopflowError('the Spark engine needs PySpark and SQLGlot: pip install "popflow[spark]"') from e
    return pyspark.sql


def _start(builder, master: str | None, conf: dict[str, str]):
    """Start a Spark driver in this process."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise PopflowError("the Spark engine needs Java 17 or later: apt-get install -y openjdk-17-jre-headless")
    if master is None and not os.environ.get("PYSPARK_GATEWAY_PORT"):
        master = DEFAULT_MASTER  # under spark-submit the master comes from its command line instead
    if master:
        builder = builder.master(master)
    for key, value in _start_conf(master, conf).items():
        builder = builder.config(key, value)
    session = builder.appName("popflow").getOrCreate()
    if master and master.startswith("local"):
        session.sparkContext.setLogLevel("ERROR")  # keep the command line's output to popflow's own
    return session


def _start_conf(master: str | None, conf: dict[str, str]) -> dict[str, str]:
    settings = dict(BASE_CONF)
    if master and master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python tasks run where popflow is installed
        memory = os.environ.get("POPFLOW_MEMORY", "6GB").lower().removesuffix("b")
        settings |= LOCAL_CONF | {"spark.driver.memory": memory}
    return settings | conf


def session_conf(spark, workspace, conf: dict[str, str], connect: bool = False) -> dict[str, str]:
    """Per-engine SQL settings: the workspace's time zone, work sized to the lake, the caller's ``spark.sql.*``."""
    settings = {"spark.sql.session.timeZone": workspace.settings.timezone}
    if not connect:  # a Connect server sizes work for its own cluster
        settings |= _sizing(spark, workspace)
    return settings | {k: v for k, v in conf.items() if k.startswith("spark.sql.")}


def _sizing(spark, workspace) -> dict[str, str]:
    """Work split so that every core gets a share, with shuffle partitions sized to the events."""
    cores = spark.sparkContext.defaultParallelism
    sizing = {
        "spark.sql.files.minPartitionNum": str(8 * cores),
        # Adaptive execution may merge small shuffle partitions, but not below 4 per core: merging by bytes
        # alone leaves a CPU-heavy window stage on one or two tasks.
        "spark.sql.adaptive.coalescePartitions.minPartitionNum": str(4 * cores),
    }
    if not spark.sparkContext.getConf().contains("spark.sql.shuffle.partitions"):  # else set at start
        events = sum(f.stat().st_size for f in workspace.lake.data_files("events"))
        sizing["spark.sql.shuffle.partitions"] = str(max(4 * cores, math.ceil(events / SHUFFLE_BYTES)))
    return sizing


def lake_frame(spark, files: list[Path], schema: dict[str, str]):
    """One dataset's files with its declared columns and types; batches are stacked by column name."""
    frames = [_batch_frame(spark, root, group, schema) for root, group in _by_batch(files).items()]
    if not frames:
        return spark.createDataFrame([], spark_schema(schema))
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def _by_batch(files: list[Path]) -> dict[Path, list[str]]:
    """Files grouped by their batch's ``data`` folder, the root of its ``date=`` partitions."""
    groups: dict[Path, list[str]] = {}
    for f in files:
        root = next(p for p in f.parents if p.name == DATA)
        groups.setdefault(root, []).append(str(f))
    return groups


def _batch_frame(spark, root: Path, files: list[str], schema: dict[str, str]):
    """One batch's files read with the declared schema: a column the batch lacks reads as NULL."""
    return spark.read.schema(spark_schema(schema)).option("basePath", str(root)).parquet(*files)


def spark_schema(schema: dict[str, str]) -> str:
    """A dataset's declared schema as a Spark DDL string."""
    return ", ".join(f"`{n}` {SPARK_TYPES[t]}" for n, t in schema.items())


def duckdb_types(table: pa.Table) -> pa.Table:
    """Arrow types as DuckDB returns them: plain (not large) strings and binaries, every column nullable."""
    return table.cast(pa.schema([pa.field(f.name, _plain(f.type)) for f in table.schema]))


def _plain(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_large_string(kind):
        return pa.string()
    if pa.types.is_large_binary(kind):
        return pa.binary()
    return kind
