"""Every registered indicator released from the command line, and what a failed release leaves behind."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from popflow import audit, indicators
from popflow.cli import app
from popflow.settings import PRIVACY_MODES
from popflow.workspace import Workspace

INDICATORS = [i.name for i in indicators.all_indicators()]


def cli(*args) -> tuple[int, str]:
    """Run ``popflow ARGS`` in this process; (exit code, stdout + stderr)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def ws(every_source_workspace, tmp_path_factory):
    """A copy of the shared workspace, since dp releases here spend its budget."""
    target = tmp_path_factory.mktemp("cli-releases") / "ws"
    shutil.copytree(every_source_workspace.path, target)
    return target


def releases(ws) -> list[str]:
    return sorted(p.name for p in (ws / "releases").iterdir())


PRIVACY = {"k": [], "ckm": [], "dp": ["--epsilon", "0.5"]}


@pytest.mark.parametrize("privacy", [["--privacy", mode, *PRIVACY[mode]] for mode in PRIVACY_MODES], ids=PRIVACY_MODES)
@pytest.mark.parametrize("name", INDICATORS)
def test_every_indicator_runs_from_the_cli(ws, tmp_path, name, privacy):
    out = tmp_path / f"{name}.csv"
    code, output = cli("run", name, *privacy, "--out", out, "-w", ws)
    assert code == 0, output
    assert f"files in {out.parent}" in output and out.name in output and "audited" in output
    manifest = json.loads(out.with_name(out.name + ".manifest.json").read_text())
    assert manifest["indicator"] == name and manifest["privacy"]["mode"] == privacy[1]
    assert audit.read(ws / "audit.jsonl")[-1]["release"] == manifest["release_id"]


def test_an_unwritable_output_releases_and_charges_nothing(ws):
    before_audit, before_releases = (ws / "audit.jsonl").read_text(), releases(ws)
    before_budget = Workspace(ws).budget().rows()
    for target in ("/proc/x.csv", "/proc/popflow-missing-folder/x.csv"):
        code, output = cli("run", "present-population", "--privacy", "dp", "--epsilon", "0.5", "--out", target,
                           "-w", ws)
        assert code == 2 and "Traceback" not in output and target.split("/")[-2] in output
        assert len(output.strip().splitlines()) == 1
    assert (ws / "audit.jsonl").read_text() == before_audit and releases(ws) == before_releases
    assert Workspace(ws).budget().rows() == before_budget


def test_a_window_beyond_the_data_charges_only_the_months_with_data(ws, tmp_path):
    out = tmp_path / "wide.csv"
    code, output = cli("run", "residents", "--from", "1900-01-01", "--to", "2200-12-31", "--privacy", "dp",
                       "--epsilon", "0.1", "--out", out, "-w", ws)
    assert code == 0, output
    manifest = json.loads(out.with_name("wide.csv.manifest.json").read_text())
    assert manifest["window"] == {"from": "2026-01-26", "to": "2026-02-09"}  # UTC times, local dates
    assert audit.read(ws / "audit.jsonl")[-1]["charge"]["months"] == ["2026-01", "2026-02"]


def test_a_window_without_data_is_refused(ws, tmp_path):
    code, output = cli("run", "residents", "--from", "1900-01-01", "--to", "1900-12-31", "--out",
                       tmp_path / "x.csv", "-w", ws)
    assert code == 2 and "too few people" in output


@pytest.mark.parametrize(("args", "message"), [
    (["--indicator", "alerts"], "--indicator alerts: its series come from another indicator's release"),
    (["--measure", "area_id"], "--measure area_id: present-population has no such measure"),
    (["--indicator", "od-flows", "--measure", "people"], "--measure people: od-flows has no such measure"),
    (["--indicator", "nothing"], "unknown indicator 'nothing'"),
])
def test_alerts_refuse_what_they_cannot_watch_before_any_work(ws, tmp_path, args, message):
    before = releases(ws)
    code, output = cli("run", "alerts", *args, "--out", tmp_path / "a.csv", "-w", ws)
    assert code == 2 and message in output and "level" not in output
    assert releases(ws) == before


@pytest.mark.parametrize(("args", "message"), [
    (["present-population", "--carry", "100000000"], "--carry 100000000: must be between 0 and 48"),
    (["present-population", "--carry", "-1"], "--carry -1: must be between 0 and 48"),
    (["residents", "--min-nights", "0"], "--min-nights 0: must be between 1 and 31"),
    (["present-population", "--max-gap", "99d"], "--max-gap 99d: must be between 1h and 2d"),
    (["od-flows", "--max-gap", "30min"], "--max-gap 30min: must be between 1h and 2d"),
    (["alerts", "--threshold", "nan"], "--threshold: 'nan' is not a finite number"),
    (["present-population", "--privacy", "dp", "--epsilon", "1e309"], "--epsilon: '1e309' is not a finite number"),
    (["present-population", "--privacy", "dp", "--epsilon", "1", "--max-contrib", "0"],
     "--max-contrib 0: must be between 1 and 1000"),
])
def test_parameters_out_of_range_are_refused_with_one_line(ws, tmp_path, args, message):
    code, output = cli("run", *args, "--out", tmp_path / "x.csv", "-w", ws)
    assert code == 2 and message in output and len(output.strip().splitlines()) == 1


def test_readme_lists_every_option_with_its_range():
    from pathlib import Path

    from popflow.options_reference import readme_section

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert readme_section() in readme, "README's options table is stale: run python -m popflow.options_reference"


def test_a_reader_listing_releases_sees_only_finished_ones(ws, tmp_path):
    """A release becomes visible under ``releases/`` whole, its manifest already carrying its audit head."""
    import threading

    from popflow.service.release_store import ReleaseStore

    def release_three():
        for n in range(3):
            assert cli("run", "residents", "--out", tmp_path / f"r{n}.csv", "-w", ws)[0] == 0

    writer = threading.Thread(target=release_three)
    writer.start()
    seen = set()
    while writer.is_alive():
        manifests = ReleaseStore(Workspace(ws), geometries=dict).manifests()  # a new reader: nothing cached
        assert all("audit_head" in m for m in manifests)
        seen.update(m["release_id"] for m in manifests)
    writer.join()
    assert not [p for p in (ws / "releases").iterdir() if p.name.startswith(".")]
    assert len(seen) >= 2  # the reader did run while releases were being made


HOLD_STAGING = """
import os, signal, sys
from pathlib import Path
from popflow.release_staging import staging_folder
with staging_folder(Path(sys.argv[1]), sys.argv[2]) as folder:
    (folder / "residents.parquet").write_text("half")
    print("staged", flush=True)
    if sys.argv[3] == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.readline()
"""


def test_a_release_removes_the_staging_folder_of_a_killed_one_but_not_of_a_running_one(ws, tmp_path):
    import subprocess
    import sys

    releases = ws / "releases"

    def hold(release_id: str, fate: str) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", HOLD_STAGING, str(releases), release_id, fate],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert process.stdout.readline() == "staged\n"
        return process

    killed = hold("killed-one", "killed")
    assert killed.wait() == -9
    assert (releases / ".staging-killed-one" / "residents.parquet").is_file()
    running = hold("running-one", "running")  # staging removes abandoned folders before making its own
    assert not (releases / ".staging-killed-one").exists()
    killed = hold("killed-again", "killed")
    assert killed.wait() == -9
    try:
        assert (releases / ".staging-killed-again").is_dir()
        assert cli("run", "residents", "--out", tmp_path / "r.csv", "-w", ws)[0] == 0
        left = sorted(p.name for p in releases.iterdir() if p.name.startswith("."))
        assert left == [".staging-running-one", ".staging-running-one.lock"]
    finally:
        running.communicate("\n")
    assert running.returncode == 0
    assert not [p for p in releases.iterdir() if p.name.startswith(".")]  # left unrenamed, removed on leaving
