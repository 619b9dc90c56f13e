"""The example third-party indicator (``examples/popflow-example-indicator``), installed next to popflow, works
through every interface with no popflow file changed.

It is installed as pip installs a package (its modules and a ``.dist-info`` with its entry points) into a
folder of its own, and popflow runs in fresh processes with that folder on their path: the indicator is
found only through the ``popflow.indicators`` entry-point group. It is released by the CLI in k and dp
mode (against an independent count), by Python and by a real HTTP server, watched by alerts, drawn by the
report, described with its column roles by ``/api/indicators`` and drawn on the dashboard's map.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pandas as pd
import pytest

from popflow import indicators
from popflow.plugins import discover
from popflow.service.tokens import TokenStore

import scenario
from browser_support import browser_tab

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "popflow-example-indicator"
NAME, MEASURE, KEY = "night-owls", "owls", "night_band"
K = 4  # above ckm's largest perturbation (3)
SPIKE_DATE, SPIKE_PEOPLE = "2026-02-15", 40  # extra people active at 01:00 in area A on the last day


def install(project_dir: Path, site: Path) -> None:
    """Install a project into ``site`` as pip does: its packages and a dist-info naming its entry points."""
    project = tomllib.loads((project_dir / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for package in project_dir.glob("*/__init__.py"):
        shutil.copytree(package.parent, site / package.parent.name)
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    groups = project["entry-points"]
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in entries.items())
        for group, entries in groups.items()))


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    """The environment of a process that has popflow and the installed example on its path."""
    site = tmp_path_factory.mktemp("site-packages")
    install(EXAMPLE, site)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}


def spiked_events() -> pd.DataFrame:
    """Random events of 40 people over six weeks (history enough for alerts on a daily series), plus many
    people active in the night of the last day."""
    events = scenario.random_events(n_people=40, days=42, per_day=12, seed=5, start="2026-01-05")
    spike = pd.DataFrame({"subscriber_id": [scenario.phone(100 + i) for i in range(SPIKE_PEOPLE)],
                          "timestamp": f"{SPIKE_DATE}T01:00:00+08:00", "cell_id": "a1"})
    return pd.concat([events, spike], ignore_index=True)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """A workspace of its own (k=4): the tests spend dp budget."""
    return scenario.workspace(tmp_path_factory.mktemp("extension"), spiked_events(), scenario.subscribers(40), k=K)


def reference() -> pd.DataFrame:
    """Night owls counted independently from the raw events: distinct people and events per local date, area
    and two-hour band between 00:00 and 04:00."""
    events = spiked_events()
    local = pd.to_datetime(events["timestamp"], format="ISO8601", utc=True).dt.tz_convert(scenario.TIMEZONE)
    night = events.assign(date=local.dt.strftime("%Y-%m-%d"), area_id=events["cell_id"].map(scenario.CELL_AREA),
                          night_band=(local.dt.hour // 2).map({0: "00-02", 1: "02-04"}))[local.dt.hour < 4]
    return night.groupby(["date", "area_id", KEY]).agg(
        owls=("subscriber_id", "nunique"), late_events=("subscriber_id", "size")).reset_index()


def popflow(env: dict, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "popflow", *args], env=env, capture_output=True, text=True,
                          timeout=90)
    assert done.returncode == 0, done.stderr
    return done


def released(out: Path) -> tuple[pd.DataFrame, dict]:
    """A released CSV (keys as text) and its manifest."""
    table = pd.read_csv(out, dtype={"date": str, "area_id": str, KEY: str})
    return table, json.loads(Path(f"{out}.manifest.json").read_text())


def test_installed_example_is_found_only_through_its_entry_point(env):
    listing = popflow(env, "run", "--help").stdout
    assert NAME in listing
    without = {**env, "PYTHONPATH": str(ROOT)}
    assert NAME not in subprocess.run([sys.executable, "-m", "popflow", "run", "--help"], env=without,
                                      capture_output=True, text=True, timeout=60).stdout


def test_built_ins_are_entry_points_like_a_plug_in():
    entries = discover("popflow.indicators")
    assert sorted(e.name for e in entries) == sorted(i.name for i in indicators.all_indicators())
    engines = discover("popflow.engines")
    assert sorted(e.name for e in engines) == ["duckdb", "spark"]
    assert all(e.load().name == e.name for e in engines)


def test_a_plug_in_that_cannot_be_imported_is_named_in_one_line(tmp_path):
    info = tmp_path / "broken-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[popflow.indicators]\nbroken = no_such_module\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run([sys.executable, "-m", "popflow", "run", "residents", "--help"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: indicator 'broken' (no_such_module) cannot be loaded: "
                                   "No module named 'no_such_module'")


def test_cli_k_release_equals_the_independent_count_over_cells_of_k_people(env, ws, tmp_path):
    out = tmp_path / "owls.csv"
    popflow(env, "run", NAME, "--privacy", "k", "--out", str(out), "-w", str(ws.path))
    table, manifest = released(out)
    assert list(table.columns) == ["date", "area_id", KEY, MEASURE, "late_events"]
    expected = reference()
    expected = expected[expected[MEASURE] >= K]
    merged = table.merge(expected, on=["date", "area_id", KEY], how="outer", suffixes=("", "_ref"),
                         indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    assert (merged[MEASURE] == merged[f"{MEASURE}_ref"]).all()
    summed = merged.dropna(subset=["late_events"])
    assert len(summed) > len(merged) / 2 and (summed["late_events"] == summed["late_events_ref"]).all()
    assert manifest["indicator"] == NAME and manifest["privacy"]["mode"] == "k"


def test_cli_ckm_release_perturbs_each_count_by_at_most_three(env, ws, tmp_path):
    out = tmp_path / "owls-ckm.csv"
    popflow(env, "run", NAME, "--privacy", "ckm", "--out", str(out), "-w", str(ws.path))
    table, manifest = released(out)
    merged = table.merge(reference(), on=["date", "area_id", KEY], how="left", suffixes=("", "_ref"))
    assert manifest["privacy"]["mode"] == "ckm" and len(merged) > 0 and merged[f"{MEASURE}_ref"].notna().all()
    change = (merged[MEASURE] - merged[f"{MEASURE}_ref"]).abs()
    assert change.max() <= 3 and change.max() > 0


def test_cli_dp_release_is_noisy_and_charged(env, ws, tmp_path):
    out = tmp_path / "owls-dp.csv"
    popflow(env, "run", NAME, "--privacy", "dp", "--epsilon", "1", "--out", str(out), "-w", str(ws.path))
    table, manifest = released(out)
    assert {"date", "area_id", KEY, MEASURE}.issubset(table.columns)
    assert manifest["privacy"]["mode"] == "dp" and manifest["privacy"]["epsilon"] == 1
    assert manifest["noise"][NAME]["keys"] == "public"  # its declared night_band domain: every cell released
    assert set(table[KEY]) == {"00-02", "02-04"}
    audit = [json.loads(line) for line in (ws.path / "audit.jsonl").read_text().splitlines()]
    assert any(a["indicator"] == NAME and a.get("charge") for a in audit)


def test_alerts_watch_its_measure_and_flag_the_spike(env, ws, tmp_path):
    out = tmp_path / "alerts.csv"
    popflow(env, "run", "alerts", "--indicator", NAME, "--measure", MEASURE, "--out", str(out), "-w", str(ws.path))
    alerts, manifest = released(out)
    assert manifest["parameters"]["indicator"] == NAME
    assert alerts["series"].str.startswith(NAME).all()
    flagged = alerts[alerts["time"].astype(str).str.startswith(SPIKE_DATE) & (alerts["direction"] == "up")]
    assert "A|00-02" in set(flagged["key"]), alerts  # the spike: area A, band 00-02


PYTHON_AND_REPORT = """
import json, sys
import popflow
from popflow.report import build_report

ws = popflow.Workspace(sys.argv[1])
release = ws.run("night-owls", level="city", by="gender")
report = build_report(sys.argv[2], release.tables, ws.area_rows(), None, [], k_anonymity=ws.settings.k_anonymity)
print(json.dumps({"columns": release.table.column_names, "areas": sorted(set(release.table["area_id"].to_pylist())),
                  "least": min(release.table["owls"].to_pylist())}))
"""


def test_python_release_and_report_section(env, ws, tmp_path):
    report = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-c", PYTHON_AND_REPORT, str(ws.path), str(report)], env=env,
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["columns"] == ["date", "area_id", KEY, "gender", MEASURE, "late_events"]
    assert set(result["areas"]) <= {"X", "Y"} and result["least"] >= K
    html = report.read_text()
    assert f'id="{NAME}"' in html and "people active 00:00-04:00" in html
    assert f"cells with the most {MEASURE}" in html and "Xcity" in html


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(env, ws):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "popflow", "serve", "--port", str(port), "--no-access-log",
                                "-w", str(ws.path)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/api/health", timeout=1)
            break
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read().decode()
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def token(ws) -> str:
    return TokenStore(ws.path).create("extension", "analyst")[0]


def release_over_http(url: str, token: str, parameters: dict) -> list[dict]:
    """Rows of a night-owls release made through ``POST /api/releases``."""
    c = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    job = c.post("/api/releases", json={"indicator": NAME, "parameters": parameters}).json()
    deadline = time.monotonic() + 60
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
        job = c.get(f"/api/jobs/{job['id']}").json()
    assert job["status"] == "done", job
    return c.get(f"/api/releases/{job['release_id']}/tables/{NAME}").json()["rows"]


def test_http_lists_its_roles_and_releases_it(server, token):
    c = httpx.Client(base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    info = next(i for i in c.get("/api/indicators").json() if i["name"] == NAME)
    roles = info["roles"]
    assert {c: roles["columns"][c] for c in ("date", "area_id", KEY, MEASURE, "late_events")} == {
        "date": "time", "area_id": "area", KEY: "category", MEASURE: "count", "late_events": "count"}
    assert roles["tables"] == {NAME: ["date", "area_id", KEY]}
    rows = release_over_http(server, token, {"level": "city"})
    assert rows and all(r[MEASURE] >= K and r["area_id"] in ("X", "Y") for r in rows)


@pytest.mark.browser
def test_dashboard_map_draws_it_by_its_roles(server, token):
    release_over_http(server, token, {})
    with browser_tab() as tab:
        tab.goto(server + "/")
        tab.fill("#token", token)
        tab.click("#sign-in-form button[type=submit]")
        tab.wait_for_function("() => document.body.dataset.ready === 'map'", timeout=30000)
        tab.select_option("#map-indicator", NAME)
        tab.wait_for_function("(name) => { const s = window.popflow.state('map');"
                              " return s && s.indicator === name && s.coloured > 0; }", arg=NAME, timeout=30000)
        state = tab.evaluate("() => window.popflow.state('map')")
        assert state["measure"] == MEASURE and KEY in state["filters"], state
        assert state["legend"].startswith(f"{NAME}: "), state
        assert not tab.problems, tab.problems
