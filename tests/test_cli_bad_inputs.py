"""Bad input on the command line: exit code 2, one line that says what is wrong, and the workspace unchanged."""

from __future__ import annotations

import gzip
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from popflow.cli import app


@pytest.fixture(scope="module")
def ws(every_source_workspace, tmp_path_factory):
    target = tmp_path_factory.mktemp("bad-inputs") / "ws"
    shutil.copytree(every_source_workspace.path, target)
    return target


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Bad input files, by name."""
    folder = tmp_path_factory.mktemp("bad-files")
    made = {
        "empty.csv": b"",
        "garbage.csv": bytes(range(256)) * 8,
        "no_cell.csv": b"subscriber_id,timestamp\n+8613900000001,2026-01-27T08:00:00+08:00\n",
        "twice.csv": b"subscriber_id,timestamp,cell_id,cell_id\n+8613900000001,2026-01-27T08:00:00+08:00,a1,b1\n",
        "not_json.geojson": b"{ this is not json",
        "bad.csv.gz": b"not gzip at all",
        "truncated.csv.gz": gzip.compress(b"subscriber_id,timestamp,cell_id\n" + b"".join(
            f"+86139{i * 7919 % 10**8:08d},2026-01-27T08:{i % 60:02d}:00+08:00,a1\n".encode()
            for i in range(2000)))[:5000],
        "not.parquet": b"PAR1 but not really",
    }
    for name, content in made.items():
        (folder / name).write_bytes(content)
    nested = pa.table({"subscriber_id": ["+8613900000001"], "timestamp": ["2026-01-27T08:00:00+08:00"],
                       "cell_id": pa.array([{"id": "a1"}])})
    pq.write_table(nested, folder / "nested.parquet")
    (folder / "empty_folder").mkdir()
    return folder


BAD = [
    (["run", "present-population", "--out", "{tmp}/x.csv", "-w", "{tmp}/nowhere"], "is not a popflow workspace"),
    (["init", "{ws}"], "already a popflow workspace"),
    (["init", "{tmp}/new", "--timezone", "Mars/Olympus_Mons"], "unknown time zone"),
    (["init", "{tmp}/new", "--k", "1"], "k_anonymity must be at least 2"),
    (["ingest", "events", "{files}/missing.csv", "-w", "{ws}"], "missing.csv"),
    (["ingest", "events", "{files}/empty.csv", "-w", "{ws}"], "empty.csv"),
    (["ingest", "events", "{files}/garbage.csv", "-w", "{ws}"], "garbage.csv"),
    (["ingest", "events", "{files}/no_cell.csv", "-w", "{ws}"], "cell_id"),
    (["ingest", "events", "{files}/twice.csv", "-w", "{ws}"], "cell_id"),
    (["ingest", "events", "{files}/nested.parquet", "-w", "{ws}"], "nested.parquet"),
    (["ingest", "events", "{files}/not.parquet", "-w", "{ws}"], "not.parquet"),
    (["ingest", "events", "{files}/bad.csv.gz", "-w", "{ws}"], "bad.csv.gz"),
    (["ingest", "events", "{files}/truncated.csv.gz", "-w", "{ws}"], "truncated.csv.gz"),
    (["ingest", "events", "{files}/empty_folder", "-w", "{ws}"], "empty_folder"),
    (["ingest", "areas", "{files}/not_json.geojson", "-w", "{ws}"], "not_json.geojson"),
    (["ingest", "cells", "-w", "{ws}"], "give at least one file"),
    (["run", "present-population", "--out", "{tmp}/x.xlsx", "-w", "{ws}"], ".parquet"),
    (["run", "present-population", "--bin", "7min", "--out", "{tmp}/x.csv", "-w", "{ws}"], "divide 24 hours"),
    (["run", "present-population", "--from", "2026-13-01", "--out", "{tmp}/x.csv", "-w", "{ws}"], "not a date"),
    (["run", "residents", "--level", "galaxy", "--out", "{tmp}/x.csv", "-w", "{ws}"], "unknown area level"),
    (["run", "present-population", "--by", "phone", "--out", "{tmp}/x.csv", "-w", "{ws}"], "--by phone"),
    (["run", "present-population", "--spark-conf", "nonsense", "--out", "{tmp}/x.csv", "-w", "{ws}"],
     "not key=value"),
    (["run", "present-population", "--privacy", "dp", "--out", "{tmp}/x.csv", "-w", "{ws}"], "needs --epsilon"),
    (["run", "present-population", "--carry", "1e9", "--out", "{tmp}/x.csv", "-w", "{ws}"], "--carry"),
    (["run", "alerts", "--indicator", "alerts", "--out", "{tmp}/x.csv", "-w", "{ws}"], "--indicator alerts"),
    (["key", "rotate", "--from", "2020-01-15", "-w", "{ws}"], "mid-month"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a[:3]) for a, _ in BAD])
def test_bad_input_gets_one_line_and_changes_nothing(ws, files, tmp_path, args, message):
    lake_before = sorted(str(p.relative_to(ws)) for p in (ws / "lake").rglob("*"))
    audit_before = (ws / "audit.jsonl").read_text()
    argv = [a.format(ws=ws, files=files, tmp=tmp_path) for a in args]
    result = CliRunner().invoke(app, argv)
    assert isinstance(result.exception, SystemExit), f"uncaught {result.exception!r}"
    assert result.exit_code == 2 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output, result.output
    assert sorted(str(p.relative_to(ws)) for p in (ws / "lake").rglob("*")) == lake_before
    assert (ws / "audit.jsonl").read_text() == audit_before


@pytest.mark.parametrize(("memory", "message"), [
    ("2MB", "out of memory: this release needs more than DuckDB's memory limit (2MB)"),
    ("lots", "memory limit 'lots' (POPFLOW_MEMORY) is not a memory size"),
])
def test_a_release_beyond_its_memory_gets_one_line_and_releases_nothing(ws, tmp_path, monkeypatch, memory, message):
    monkeypatch.setenv("POPFLOW_MEMORY", memory)
    releases_before, audit_before = sorted((ws / "releases").iterdir()), (ws / "audit.jsonl").read_text()
    result = CliRunner().invoke(app, ["run", "present-population", "--out", str(tmp_path / "x.csv"), "-w", str(ws)])
    assert isinstance(result.exception, SystemExit), f"uncaught {result.exception!r}"
    assert result.exit_code == 2 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "x.csv").exists()
    assert sorted((ws / "releases").iterdir()) == releases_before
    assert (ws / "audit.jsonl").read_text() == audit_before
