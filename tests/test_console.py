"""What a person at the console sees: progress of long steps, release tables, token names, refusals."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from popflow.cli import app, release_rows, release_table
from popflow.demo import START, whole_months
from popflow.errors import PopflowError
from popflow.progress import Steps

import scenario

ROOT = Path(__file__).parents[1]


def cli(*args) -> tuple[int, str, str]:
    """Run ``popflow ARGS`` in this process, as from a pipe (not a terminal): (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def ws(every_source_workspace, tmp_path_factory):
    """A copy of the shared workspace (releases here add audit lines and tokens)."""
    target = tmp_path_factory.mktemp("console") / "ws"
    shutil.copytree(every_source_workspace.path, target)
    return target


def terminal(width: int = 100) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=True, width=width, color_system=None), buffer


def test_a_step_on_a_terminal_shows_a_live_bar_and_ends_with_its_summary():
    console, buffer = terminal()
    steps = Steps(console)
    with steps.step("ingest events", total=10) as step:
        step.update(completed=4, description="ingest events: file 4 of 10 [data/x]")
        steps._live.refresh()
        live = buffer.getvalue()
        step.summary = "ingested events: 10 files from [data/x]"
    assert "ingest events: file 4 of 10 [data/x]" in live and "━" in live and "40%" in live  # the bar, in place
    assert "\x1b[" in live  # cursor movements: the row is redrawn, not appended
    assert re.search(r"ingested events: 10 files from \[data/x\] \(\d+\.\d s\)", buffer.getvalue())
    assert steps._live is None  # the live display is gone once the last step ends


def test_nested_steps_share_one_live_display_and_each_ends_with_a_line():
    console, buffer = terminal()
    steps = Steps(console)
    with steps.step("demo") as outer:
        with steps.step("releases", total=2) as inner:
            assert len(steps._live.tasks) == 2
            inner.summary = "2 releases published"
        outer.summary = "demo built"
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buffer.getvalue())  # without the redrawing
    summaries = re.findall(r"(2 releases published|demo built) \(\d\.\d s\)", text)
    assert summaries == ["2 releases published", "demo built"]  # inner first, each once


def test_a_failing_step_prints_no_summary_and_stops_its_display():
    console, buffer = terminal()
    steps = Steps(console)
    with pytest.raises(PopflowError), steps.step("ingest events") as step:
        step.summary = "ingested events"
        raise PopflowError("bad file")
    assert "ingested events" not in buffer.getvalue() and steps._live is None


def test_a_release_from_a_pipe_prints_one_summary_line_and_a_table(ws, tmp_path):
    out = tmp_path / "presence-by-age.csv"
    code, stdout, stderr = cli("run", "present-population", "--level", "city", "--by", "age_band", "--out", out,
                               "-w", ws)
    assert code == 0, stderr
    assert re.fullmatch(r"present-population: release \S+ published and audited \(\d+\.\d s\)\n", stderr)
    assert "\x1b[" not in stderr + stdout  # nothing redrawn in a pipe
    header = next(line for line in stdout.splitlines() if "release" in line and "file" in line)
    assert header.split() == ["release", "rows", "suppressed", "file"]
    row = next(line for line in stdout.splitlines() if "presence-by-age.csv" in line)
    assert row.split()[:3] == ["present-population", "level=city", "by=age_band"]
    assert "{" not in stdout  # no raw dicts


def test_ingest_from_a_pipe_ends_with_rows_per_second(small_ws, tmp_path):
    events = tmp_path / "events.csv"
    rows = scenario.random_events(n_people=6, days=2, per_day=4, seed=9, start="2026-03-01")
    rows.to_csv(events, index=False)
    code, stdout, stderr = cli("ingest", "events", events, "-w", small_ws.path)
    assert code == 0, stderr
    assert re.fullmatch(rf"ingested events: {len(rows)} rows read, 0 quarantined, [\d,]+ rows/s \(\d+\.\d s\)\n",
                        stderr)
    assert "accepted" in stdout  # the data-quality report


def test_ingest_progress_names_each_file_with_its_rows_and_rate(small_ws, tmp_path, monkeypatch):
    """On a terminal the ingest bar reads "ingest events: FILE, N rows (R rows/s)" as each file is read."""
    import popflow.progress

    shown, update = [], popflow.progress.Step.update

    def recorded(self, completed=None, total=None, description=None):
        shown.append(description)
        update(self, completed, total, description)

    monkeypatch.setattr(popflow.progress.Step, "update", recorded)
    paths = []
    for day, name in enumerate(("first day.csv", "second day.csv")):
        rows = scenario.random_events(n_people=6, days=1, per_day=4, seed=day, start=f"2026-04-0{day + 1}")
        rows.to_csv(tmp_path / name, index=False)
        paths.append((tmp_path / name, len(rows)))
    small_ws.ingest("events", [p for p, _ in paths], steps=Steps(Console(file=io.StringIO(), force_terminal=True)))
    for path, count in paths:
        assert any(re.fullmatch(rf"ingest events: {path.name}, {count} rows \([\d,]+ rows/s\)", d or "")
                   for d in shown), shown


@pytest.mark.parametrize("width", [80, 60, 40])
def test_the_release_table_never_cuts_a_token_in_a_narrow_terminal(ws, tmp_path, width):
    import popflow

    workspace = popflow.Workspace(ws)
    releases = [workspace.run("present-population", level="city", by="age_band",
                              out=tmp_path / "present-population-city-by-age.csv"),
                workspace.run("migration", level="city", out=tmp_path / "migration.csv"),
                workspace.run("alerts", indicator="outbound-travel", measure="trips",
                              out=tmp_path / "alerts-outbound.csv")]
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(release_table(release_rows(releases, tmp_path), width))
    text = console.file.getvalue()
    assert max(len(line) for line in text.splitlines()) <= width
    tokens = set(text.split())
    for name in ("present-population-city-by-age.csv", "migration.csv", "migration.arrivals.csv", "alerts-outbound.csv",
                 "level=city", "by=age_band", "indicator=outbound-travel", "measure=trips", "arrivals"):
        assert name in tokens, text
    arrivals = text.split("arrivals", 1)[1].split()
    assert arrivals[0] == f"{releases[1].manifest['rows']['arrivals']:,}"
    assert f"{releases[1].manifest['suppressed']['arrivals']['cells_below_k']:,}" in arrivals[1:4]


def test_token_create_without_a_name_gets_the_next_role_number(ws):
    assert "[default: ROLE-N" in cli("token", "create", "--help")[1].replace("\n", " ")
    names = [re.search(r"token '([^']+)'", cli("token", "create", "--role", "analyst", "-w", ws)[1]).group(1)
             for _ in range(2)]
    assert names == ["analyst-1", "analyst-2"]


def test_token_list_never_truncates_names_at_80_columns(ws):
    long = "regional-tourism-board-statistics-2026"
    cli("token", "create", "--role", "viewer", "--name", long, "--indicators", "tourism,residents", "-w", ws)
    result = subprocess.run([sys.executable, "-m", "popflow", "token", "list", "-w", str(ws)], capture_output=True,
                            text=True, env={**os.environ, "COLUMNS": "80", "PYTHONPATH": str(ROOT)}, check=True)
    assert f"{long}  viewer, active" in result.stdout
    assert max(len(line.rstrip()) for line in result.stdout.splitlines()) <= 80
    assert "tourism, residents" in " ".join(result.stdout.split())


def test_a_breakdown_without_a_subscriber_register_is_refused_in_one_line(tmp_path):
    ws = scenario.workspace(tmp_path, scenario.random_events(n_people=6, days=1, per_day=4))  # no register
    with pytest.raises(PopflowError, match="ingest one first"):
        ws.run("residents", by="gender")
    code, stdout, stderr = cli("run", "present-population", "--by", "age_band", "--out", tmp_path / "p.csv",
                               "-w", ws.path)
    assert code == 2 and stdout == ""
    assert stderr == ("error: --by age_band: no subscriber register was ingested, so everyone's age_band would be "
                      "unknown; ingest one first (popflow ingest subscribers FILE)\n")
    assert not list((ws.path / "releases").iterdir()) and not (tmp_path / "p.csv").exists()
    assert len(ws.run("present-population").table) > 0  # without a breakdown it runs


def test_the_project_licence_is_an_spdx_expression():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"


def test_the_demo_covers_whole_calendar_months():
    assert START.day == 1
    assert whole_months(START, 2) == 31 + 28  # January and February 2026
    assert whole_months(START, 12) == 365
    assert whole_months(START.replace(month=12), 1) == 31


def test_the_readme_python_quick_start_runs_in_a_fresh_folder(tmp_path):
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"## Quick start.*?```python\n(.*?)```", readme, re.S).group(1)
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header == ["gender", "F", "M"]  # real breakdowns, not one 'unknown' column
    assert "cells_below_k" in result.stdout
