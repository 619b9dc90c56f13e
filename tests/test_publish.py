"""Packages of releases (``popflow publish``): each release as if run alone, shared blocks computed once,
plans checked as a whole before any work, and what a failed release leaves of its package."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from popflow import audit
from popflow.cli import app
from popflow.engines.duckdb_engine import DuckDBEngine
from popflow.plan import Plan
from popflow.publish import contribution_sql
from popflow.release import make_release
from popflow.release_session import BLOCK_PREFIX, ReleaseSession
from popflow.shared_blocks import Definitions, choose_shared, split_with

# A small monthly package: present population at two levels × two breakdowns, homes, workplaces, trips,
# migration and tourism.
PACKAGE = [
    {"run": "present-population", "level": ["district", "city"], "by": ["", "gender"]},
    {"run": "residents", "by": "gender"}, {"run": "workers"}, {"run": "od-flows", "level": "city"},
    {"run": "migration"}, {"run": "tourism"},
]
# Releases reading blocks of the same definition over other content (a shorter window), or of other definitions
# (homes from fewer nights): each must get blocks of its own.
VARIANTS = [{"run": "od-flows", "name": "od-flows-week", "from": "2026-02-02", "to": "2026-02-08"},
            {"run": "residents", "name": "residents-2-nights", "min_nights": 2}]
VOLATILE = {"release_id", "wall_time_s", "created_at", "audit_head", "files"}  # differ between any two releases


@pytest.fixture(scope="module")
def ws(every_source_workspace, tmp_path_factory):
    """A copy of the shared workspace: packages here add releases and spend budget."""
    target = tmp_path_factory.mktemp("publish") / "ws"
    shutil.copytree(every_source_workspace.path, target)
    return type(every_source_workspace)(target)


def cli(*args) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def audit_lines(ws) -> list[dict]:
    return audit.read(ws.path / "audit.jsonl")


@pytest.mark.parametrize("mode", ["k", "ckm"])
def test_each_release_of_a_package_is_the_release_run_alone(ws, tmp_path, mode):
    plan = Plan.from_dict({"privacy": mode, "output": str(tmp_path / "package"), "format": "csv",
                           "release": PACKAGE + VARIANTS})
    before = len(audit_lines(ws))
    package = ws.publish(plan)
    package_audit = audit_lines(ws)[before:]
    alone = [ws.run(p.indicator, privacy=mode, out=tmp_path / p.out.name, **p.params) for p in plan.releases]
    alone_audit = audit_lines(ws)[before + len(package):]
    assert len(package) == len(plan.releases) == 11
    assert any(r.table.num_rows for r in package)
    for together, apart in zip(package, alone, strict=True):
        assert together.tables.keys() == apart.tables.keys()
        for name, table in together.tables.items():
            assert table.equals(apart.tables[name]), (together.manifest["indicator"], name)
        assert ({k: v for k, v in together.manifest.items() if k not in VOLATILE}
                == {k: v for k, v in apart.manifest.items() if k not in VOLATILE})
        assert (tmp_path / "package" / together.files[0].name).read_bytes() == apart.files[0].read_bytes()
    for together, apart in zip(package_audit, alone_audit, strict=True):
        different = {"when", "release", "outputs", "previous"}
        assert {k: v for k, v in together.items() if k not in different} == \
               {k: v for k, v in apart.items() if k not in different}
    assert [line["release"] for line in package_audit] == [r.manifest["release_id"] for r in package]


def test_stays_homes_workplaces_and_weights_are_computed_once_per_package(ws):
    """The blocks chosen are the costly ones several releases read, each computed once in the session."""
    plan = Plan.from_dict({"release": PACKAGE})
    statements = contribution_sql(plan)
    shared = choose_shared(statements)
    names = {cte.name for sql in statements for d in [Definitions.of(sql)] for cte in d.ctes
             if d.keys[cte.name] in shared}
    assert names == {"stays", "home", "work"}  # night locations are read only inside homes

    computed = []

    class Counting(DuckDBEngine):
        def materialize(self, name, sql):
            computed.append(name)
            super().materialize(name, sql)

    with ReleaseSession(Counting(ws), shared) as session:
        for p in plan.releases:
            make_release(ws, p.indicator, p.params, privacy=p.privacy, session=session)
    blocks = [n for n in computed if n.startswith(BLOCK_PREFIX)]
    # Stays of one window; homes and workplaces twice: tourism reads events from a day earlier (its stays may begin
    # then), so its homes and workplaces are blocks of other content than those of residents, workers and migration.
    assert len(blocks) == len(set(blocks)) == 5
    assert computed.count("person_weight") == 1  # eight releases with estimates, one census weighting


def test_a_dp_package_charges_the_budget_once_per_release(ws, tmp_path):
    spent = {r["month"]: r["epsilon_spent"] for r in ws.budget().rows()}
    plan = Plan.from_dict({"privacy": "dp", "epsilon": 0.25, "output": str(tmp_path),
                           "release": [{"run": "present-population", "by": ["", "gender"]}, {"run": "residents"}]})
    released = ws.publish(plan)
    after = {r["month"]: r["epsilon_spent"] for r in ws.budget().rows()}
    charged = [set(json.loads(json.dumps(line["charge"]))["months"]) for line in audit_lines(ws)[-3:]]
    assert all(r.manifest["privacy"]["mode"] == "dp" for r in released)
    for month in set().union(*charged):
        assert after[month] - spent.get(month, 0) == pytest.approx(0.25 * sum(month in c for c in charged))


def write_plan(tmp_path, text: str):
    plan = tmp_path / "plan.toml"
    plan.write_text(text)
    return plan


GOOD = '[[release]]\nrun = "residents"\n'
BAD_PLANS = {
    "unknown indicator": (GOOD + '\n[[release]]\nrun = "crowds"\n',
                          "plan.toml, line 4: [[release]] 2: unknown indicator 'crowds'"),
    "unknown option": (GOOD + '\n[[release]]\nrun = "workers"\ncolour = "red"\n',
                       "line 4: [[release]] 2 (workers): 'colour' is not an option of workers"),
    "out-of-range value": ('min_nights = 99\n' + GOOD,
                           "line 2: [[release]] 1 (residents): --min-nights 99: must be between 1 and 31"),
    "bad value in a list": ('[[release]]\nrun = "present-population"\nby = ["gender", "shoe_size"]\n',
                            "(present-population by=shoe_size): --by shoe_size: breakdowns are"),
    "default no indicator takes": ('colour = 1\n' + GOOD, "plan.toml: 'colour' is not an option of any indicator"),
    "output under a file": ('output = "plan.toml/out"\n' + GOOD, "is not a folder popflow can write in"),
    "unknown format": ('output = "out"\nformat = "xlsx"\n' + GOOD, "format 'xlsx': must be parquet, csv or geojson"),
    "one file twice": ('output = "out"\n' + GOOD + GOOD, "line 4: [[release]] 2 (residents): would write "),
    "unknown level": ('[[release]]\nrun = "present-population"\nlevel = ["city", "town"]\n',
                      "line 1: [[release]] 1 (present-population level=town): --level town: unknown area level "
                      "'town' (levels: city, district, province)"),
    "dp without epsilon": ('privacy = "dp"\n' + GOOD, "(residents): --privacy dp needs --epsilon"),
    "no releases": ('privacy = "k"\n', "a plan needs at least one [[release]] table"),
    "not TOML": ('[[release]]\nrun = residents\n', "plan.toml: Invalid value (at line 2, column 7)"),
}


@pytest.mark.parametrize("case", BAD_PLANS)
def test_a_bad_plan_is_refused_whole_before_any_work(ws, tmp_path, case):
    text, message = BAD_PLANS[case]
    before, releases = (ws.path / "audit.jsonl").read_text(), sorted((ws.path / "releases").iterdir())
    code, output = cli("publish", write_plan(tmp_path, text), "-w", ws.path)
    assert code == 2 and message in output and "Traceback" not in output
    assert len(output.strip().splitlines()) == 1, output
    assert (ws.path / "audit.jsonl").read_text() == before
    assert sorted((ws.path / "releases").iterdir()) == releases
    assert not (tmp_path / "out").exists()


def test_a_failed_release_leaves_nothing_and_the_earlier_ones_stay(ws, tmp_path):
    plan = write_plan(tmp_path, 'output = "out"\nformat = "csv"\n' + GOOD
                      + '[[release]]\nrun = "present-population"\nfrom = 2031-01-01\n'
                      + '[[release]]\nrun = "od-flows"\n')
    before = len(audit_lines(ws))
    code, output = cli("publish", plan, "-w", ws.path)
    assert code == 2
    assert ("plan.toml, line 5: [[release]] 2 (present-population): the requested window or filter covers too "
            "few people to release anything "
            "(this release left nothing; 1 release(s) before it stay published, 1 after it not run)") in output
    assert "residents.csv" in output  # the release before the failure is published and listed
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["residents.csv", "residents.csv.manifest.json"]
    assert [line["indicator"] for line in audit_lines(ws)[before:]] == ["residents"]


def test_lists_expand_into_one_release_per_combination_named_by_their_values(tmp_path):
    plan = Plan.from_dict({"output": str(tmp_path), "format": "csv", "level": "city", "min_nights": 2,
                           "release": [{"run": "present-population", "level": ["district", "city"],
                                        "by": ["", "gender,age_band"]},
                                       {"run": "residents", "name": "homes", "privacy": ["k", "ckm"]}]})
    assert [(p.label, p.out.name) for p in plan.releases] == [
        ('present-population level=district by=""', "present-population-district.csv"),
        ("present-population level=district by=gender,age_band", "present-population-district-gender+age_band.csv"),
        ('present-population level=city by=""', "present-population-city.csv"),
        ("present-population level=city by=gender,age_band", "present-population-city-gender+age_band.csv"),
        ("residents privacy=k", "homes-k.csv"), ("residents privacy=ckm", "homes-ckm.csv"),
    ]
    # A default applies where the indicator takes it: min_nights to residents only.
    assert plan.releases[0].params == {"level": "district", "by": ""}
    assert plan.releases[4].params == {"level": "city", "min_nights": 2}


def test_the_ctes_of_a_statement_are_split_where_sql_puts_their_bounds():
    sql = """WITH a AS (SELECT ')' AS x, "b(" AS y -- a comment )
    FROM t), b AS (SELECT * FROM (SELECT x FROM a) WHERE x IN (SELECT ')'))
    SELECT * FROM b"""
    ctes, main = split_with(sql)
    assert [c.name for c in ctes] == ["a", "b"] and main == "SELECT * FROM b"
    assert ctes[1].body == "SELECT * FROM (SELECT x FROM a) WHERE x IN (SELECT ')')"
    assert split_with("SELECT 1") is None and split_with("WITH a AS (SELECT 1") is None


def test_a_dp_package_beyond_the_budget_is_refused_before_its_first_release(ws, tmp_path):
    """Two releases that each fit the budget left, but not together, are refused as a package: nothing runs."""
    left = min(ws.settings.privacy_budget - r["epsilon_spent"] for r in ws.budget().rows()) \
        if ws.budget().rows() else ws.settings.privacy_budget
    plan = write_plan(tmp_path, f'privacy = "dp"\nepsilon = {left * 0.6}\noutput = "out"\n'
                      '[[release]]\nrun = "residents"\n[[release]]\nrun = "present-population"\n')
    before, releases = (ws.path / "audit.jsonl").read_text(), sorted((ws.path / "releases").iterdir())
    code, output = cli("publish", plan, "-w", ws.path)
    assert code == 2 and "privacy budget exceeded" in output and "this package (2 releases) needs ε=" in output
    assert (ws.path / "audit.jsonl").read_text() == before
    assert sorted((ws.path / "releases").iterdir()) == releases and not (tmp_path / "out").exists()
    code, output = cli("publish", write_plan(tmp_path, f'privacy = "dp"\nepsilon = {left * 0.6}\n'
                                             '[[release]]\nrun = "residents"\n'), "-w", ws.path)
    assert code == 0, output  # one of them alone fits
