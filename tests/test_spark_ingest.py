"""``ingest --engine spark`` builds the lake a local ingest builds: same rows, same quarantine, same report.

Runs real PySpark in local mode. Both workspaces share one key, so pseudonyms
match and the lakes can be compared row for row.
"""

from __future__ import annotations

import gzip
import shutil

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st
from test_privacy import texts_in

import popflow
from popflow.cli import app
from popflow.engines import spark_engine as spark
from popflow.errors import InputError, PopflowError
from popflow.ingest.pipeline import checking_connection, write_files
from popflow.ingest.quality import QualityTally, merged_report
from popflow.ingest.registry import SOURCES
from popflow.ingest.source import IngestContext
from popflow.ingest.spark_load import balanced_groups
from popflow.lake import BatchFolders
from popflow.pseudonymise import KEY_FILE, KeyRing

import scenario

MASTER = "local[2]"
SPARK = {"engine": "spark", "engine_options": {"master": MASTER}}


@pytest.fixture(scope="module")
def session():
    yield spark.shared_session(MASTER)
    spark.stop_shared_session()


def twin_workspaces(root, subs):
    """A local and a Spark workspace with the same key, areas, cells and subscribers."""
    paths = scenario.write_inputs(root / "inputs", scenario.random_events(2, 1, 1), subs)
    local = popflow.Workspace.init(root / "local", timezone=scenario.TIMEZONE, home_mcc=("460",), k=2)
    on_spark = popflow.Workspace.init(root / "spark", timezone=scenario.TIMEZONE, home_mcc=("460",), k=2)
    shutil.copy(local.path / KEY_FILE, on_spark.path / KEY_FILE)
    for ws in (local, on_spark):
        for source in ("areas", "cells", "subscribers"):
            ws.ingest(source, [paths[source]])
    return local, on_spark


def event_files(folder, events: pd.DataFrame) -> list:
    """The events split over a CSV with bad rows, a gzipped CSV and Parquet with epoch-second times.

    The CSV's bad rows are on lines 4, 6, 7, 9 and its last line.
    """
    folder.mkdir(parents=True)
    third = len(events) // 3
    lines = events.iloc[:third].to_csv(index=False).splitlines()
    lines[3] = "+8613900000001,2026-01-21T10:00:00Z"  # too few fields: malformed
    lines[5] = "+8613900000002,yesterday,a1"  # unparsable time
    lines[6] = "+8613900000003,2026-01-21T10:00:00Z,zz9"  # unknown cell
    lines.insert(8, "")  # a blank line is a row with empty fields
    lines.append(",2026-01-21T11:00:00Z,b1")  # no subscriber
    plain = folder / "part-1.csv"
    plain.write_text("\n".join(lines) + "\n")
    with gzip.open(folder / "part-2.csv.gz", "wt") as fh:
        fh.write(events.iloc[third:2 * third].to_csv(index=False))
    rest = events.iloc[2 * third:].copy()
    rest["timestamp"] = pd.to_datetime(rest["timestamp"]).dt.as_unit("s").astype("int64")  # epoch seconds
    pq.write_table(pa.Table.from_pandas(rest, preserve_index=False), folder / "part-3.parquet")
    return [plain, folder / "part-2.csv.gz", folder / "part-3.parquet"]


def lake_rows(ws, kind: str) -> pd.DataFrame:
    files = [str(f) for f in getattr(ws.lake, f"{kind}_files")("events")]
    table = duckdb.sql(f"SELECT * EXCLUDE (batch) FROM read_parquet({files}, hive_partitioning=true)").to_df()
    return table.sort_values(list(table.columns)).reset_index(drop=True)


def test_spark_ingest_gives_the_local_lake(tmp_path, session):
    subs = scenario.subscribers(40)
    local, on_spark = twin_workspaces(tmp_path, subs)
    files = event_files(tmp_path / "events", scenario.random_events(40, days=6, per_day=7, seed=3))
    expected = local.ingest("events", files)
    report = on_spark.ingest("events", files, **SPARK)
    assert report == expected
    assert report["quarantined_by_reason"] == {"malformed_row": 1, "missing_field": 2, "unknown_cell": 1,
                                               "unparsable_time": 1}
    pd.testing.assert_frame_equal(lake_rows(on_spark, "data"), lake_rows(local, "data"))
    quarantine = lake_rows(on_spark, "quarantine")
    pd.testing.assert_frame_equal(quarantine, lake_rows(local, "quarantine"))
    last = len(files[0].read_text().splitlines())
    assert sorted(quarantine["line"]) == [4, 6, 7, 9, last]
    for name, params in (("present-population", {}), ("residents", {"min_nights": 1})):
        ours, theirs = on_spark.run(name, **params), local.run(name, **params)
        assert ours.table.equals(theirs.table) and ours.table.num_rows > 0
    assert not [p for p in (on_spark.path / "lake").rglob("*") if p.is_file() and p.suffix not in (".parquet", ".json")]
    key = (on_spark.path / KEY_FILE).read_bytes()
    for path in (on_spark.path / "lake").rglob("*.parquet"):
        for text in texts_in(path):
            assert not any(s in text for s in subs["subscriber_id"]) and key.hex() not in text, path


def test_spark_ingest_is_idempotent_and_all_or_nothing(tmp_path, session):
    _, ws = twin_workspaces(tmp_path, scenario.subscribers(5))
    files = event_files(tmp_path / "events", scenario.random_events(5, days=2, per_day=4, seed=1))
    ws.ingest("events", files, **SPARK)
    batches = ws.lake.batches("events")
    again = ws.ingest("events", files, **SPARK)
    assert again["rows"]["read"] == 0 and len(again["files_already_ingested"]) == 3
    broken = tmp_path / "broken.csv.gz"
    rows = "".join(f"+86139{i:08d},2026-01-21T10:00:00Z,a1\n" for i in range(20_000))
    packed = gzip.compress(("subscriber_id,timestamp,cell_id\n" + rows).encode())
    broken.write_bytes(packed[:len(packed) // 2])  # cut mid-stream
    good = tmp_path / "good.csv"
    scenario.random_events(5, days=1, per_day=4, seed=9).to_csv(good, index=False)
    with pytest.raises(PopflowError, match="broken.csv.gz"):
        ws.ingest("events", [good, broken], **SPARK)
    assert ws.lake.batches("events") == batches
    assert not (ws.path / ".staging").exists() or not any((ws.path / ".staging").iterdir())


def test_spark_ingest_refuses_before_any_task(tmp_path, session):
    _, ws = twin_workspaces(tmp_path, scenario.subscribers(3))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("subscriber_id,time,cell_id\nx,2026-01-21T10:00:00Z,a1\n")
    with pytest.raises(InputError, match="wrong.csv, column 'timestamp'"):
        ws.ingest("events", [wrong], **SPARK)
    tickets = tmp_path / "tickets.csv"
    scenario.random_tickets(3, weeks=2, per_week=2).to_csv(tickets, index=False)
    with pytest.raises(PopflowError, match="--engine spark ingests events"):
        ws.ingest("tickets", [tickets], **SPARK)
    assert not ws.lake.batches("events") and not ws.lake.batches("tickets")


def test_cli_ingests_on_spark(tmp_path, session):
    _, ws = twin_workspaces(tmp_path, scenario.subscribers(4))
    events = tmp_path / "events.csv"
    frame = scenario.random_events(4, days=1, per_day=3)
    frame.to_csv(events, index=False)
    result = CliRunner().invoke(app, ["ingest", "events", str(events), "--engine", "spark", "--master", MASTER,
                                      "--spark-conf", "spark.sql.shuffle.partitions=4", "-w", str(ws.path)])
    assert result.exit_code == 0, result.output
    assert "accepted" in result.output and ws.lake.batches("events")[0]["quality"]["rows"]["accepted"] == len(frame)


def test_tallies_of_parts_add_up_to_the_whole_report(tmp_path):
    """What each Spark task returns (``QualityTally.rows``), merged, is the report of one local ingest."""
    ws, _ = twin_workspaces(tmp_path, scenario.subscribers(20))
    files = event_files(tmp_path / "events", scenario.random_events(20, days=3, per_day=5, seed=5))
    all_bad = tmp_path / "all-bad.csv"  # a part with people columns but nobody accepted
    all_bad.write_text("subscriber_id,timestamp,cell_id\n+8613900000001,never,a1\n")
    files.append(all_bad)
    ctx = IngestContext(ws.settings.timezone, KeyRing(ws.path))
    parts = []
    for number, path in enumerate(files):
        con, tally = checking_connection(ws.lake, ctx), QualityTally("events", [])
        write_files(con, SOURCES["events"], [path], BatchFolders(tmp_path / f"part-{number}"), ctx, None, tally)
        parts.append(tally.rows(con))
    con = duckdb.connect()
    con.register("tallies", pa.concat_tables(parts))
    merged = merged_report("events", [], lambda sql: con.execute(sql).fetchall(), ws.settings.timezone)
    assert merged == ws.ingest("events", files)


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=60), st.integers(1, 16))
@example([0, 0, 0], 2)
def test_files_are_grouped_into_balanced_tasks(sizes, count):
    files = {f"f{i}": size for i, size in enumerate(sizes)}
    groups = balanced_groups(files, count)
    assert len(groups) == min(count, len(files)) and all(groups)
    assert sorted(name for group in groups for name in group) == sorted(files)
    even_share = sum(sizes) / len(groups)
    assert max(sum(files[n] for n in group) for group in groups) <= even_share + max(sizes)
