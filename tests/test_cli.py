"""The command line end to end, as a user runs it (subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

import scenario


def popflow(*args, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "popflow", *map(str, args)], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(result.stderr + result.stdout)
    return result


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    paths = scenario.write_inputs(root / "in", scenario.random_events(40, 10, 8), scenario.subscribers(40))
    ws = root / "ws"
    popflow("init", ws, "--timezone", "Asia/Shanghai", "--home-mcc", "460", "--k", "3")
    for source in ("areas", "cells", "subscribers", "events"):
        popflow("ingest", source, paths[source], "-w", ws)
    return ws


def test_init_writes_settings_and_private_key(workspace):
    settings = (workspace / "popflow.toml").read_text()
    assert 'timezone = "Asia/Shanghai"' in settings and "k_anonymity = 3" in settings
    assert (workspace / "secret.key").stat().st_mode & 0o077 == 0
    assert (workspace / "audit.jsonl").exists() and (workspace / "releases").is_dir()


def test_ingest_prints_quality_report(workspace, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("subscriber_id,timestamp,cell_id\n+861,never,a1\n")
    result = popflow("ingest", "events", bad, "-w", workspace)
    assert "unparsable_time" in result.stdout and "quarantined" in result.stdout


def test_indicators_lists_every_indicator():
    listed = popflow("indicators").stdout
    for name in ("present-population", "residents", "workers", "od-flows", "migration"):
        assert name in listed


def test_run_writes_output_and_manifest_and_audits(workspace, tmp_path):
    out = tmp_path / "presence.csv"
    result = popflow("run", "present-population", "--by", "gender", "--out", out, "-w", workspace)
    assert "present-population by=gender" in result.stdout and "presence.csv" in result.stdout
    df = pd.read_csv(out)
    assert list(df.columns) == ["time", "area_id", "gender", "people"] and (df["people"] >= 3).all()
    manifest = json.loads((tmp_path / "presence.csv.manifest.json").read_text())
    assert manifest["indicator"] == "present-population" and manifest["privacy"]["k"] == 3
    assert manifest["parameters"]["by"] == ["gender"]
    assert "audit log intact" in popflow("audit", "verify", "-w", workspace).stdout
    last = json.loads((workspace / "audit.jsonl").read_text().splitlines()[-1])
    assert last["indicator"] == "present-population" and last["who"].startswith("cli:")


def test_geojson_output_has_area_geometry(workspace, tmp_path):
    out = tmp_path / "residents.geojson"
    popflow("run", "residents", "--level", "city", "--min-nights", "1", "--out", out, "-w", workspace)
    features = json.loads(out.read_text())["features"]
    assert features and all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features)


def test_audit_verify_detects_an_edited_line(workspace, tmp_path):
    popflow("run", "od-flows", "--out", tmp_path / "od.parquet", "-w", workspace)
    log = workspace / "audit.jsonl"
    original = log.read_text()
    lines = original.splitlines()
    lines[0] = lines[0].replace('"rows": {', '"rows": {"x": 1, ', 1)
    log.write_text("\n".join(lines) + "\n")
    try:
        result = popflow("audit", "verify", "-w", workspace, check=False)
        assert result.returncode == 1 and "line 2" in result.stderr
    finally:
        log.write_text(original)


def test_clear_errors(workspace, tmp_path):
    result = popflow("run", "present-population", "--min-nights", "3", "--out", tmp_path / "x.csv",
                     "-w", workspace, check=False)
    assert result.returncode == 2 and "--min-nights" in result.stderr
    result = popflow("run", "residents", "--level", "galaxy", "--out", tmp_path / "x.csv", "-w", workspace,
                     check=False)
    assert result.returncode == 2 and "unknown area level 'galaxy'" in result.stderr
    result = popflow("run", "residents", "--out", tmp_path / "x.xlsx", "-w", workspace, check=False)
    assert result.returncode == 2 and ".parquet" in result.stderr
    result = popflow("ingest", "events", tmp_path / "missing.csv", "-w", workspace, check=False)
    assert result.returncode == 2 and "missing.csv" in result.stderr


def test_small_window_is_refused(workspace, tmp_path):
    result = popflow("run", "present-population", "--from", "2030-01-01", "--to", "2030-01-02",
                     "--out", tmp_path / "x.csv", "-w", workspace, check=False)
    assert result.returncode == 2 and "too few people" in result.stderr


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    result = popflow("demo", "--out", tmp_path / "demo", "--people", "3000", "--months", "2")
    assert "home detection accuracy" in result.stdout and "estimate vs everyone" in result.stdout
    report = (tmp_path / "demo" / "report.html").read_text()
    assert "<svg" in report and "http://" not in report and "https://" not in report
    outputs = {p.name for p in (tmp_path / "demo" / "outputs").iterdir()}
    for name in ("present-population.parquet", "residents.geojson", "workers.csv", "od-flows.csv",
                 "migration.csv", "migration.arrivals.csv"):
        assert name in outputs


@pytest.mark.slow
def test_live_demo_streams_and_publishes(tmp_path):
    from popflow.live import LiveView
    from popflow.service.background import free_port

    popflow("demo", "--live", "--out", tmp_path / "live", "--people", "800", "--days", "1",
            "--seconds", "25", "--speedup", "20000", "--port", free_port())
    snapshot = LiveView(tmp_path / "live" / "workspace").snapshot(bin=None)
    assert snapshot.freshness["events"]["accepted"] > 0 and snapshot.freshness["k"] == 15
    assert (snapshot.cells.column("people").to_numpy() >= 15).all()
