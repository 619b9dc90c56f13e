"""A third-party source, installed next to popflow, is ingested by the CLI and by Python with no popflow file
changed: it is found only through the ``popflow.sources`` entry-point group.

The source is installed as pip installs a module (the module and a ``.dist-info`` naming its entry point)
into a folder put on ``sys.path``; ``plugins.discover`` reads entry points once per process, so it is
cleared after each installation and when the folder is taken away.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from popflow.cli import app
from popflow.engines import open_engine
from popflow.errors import PopflowError
from popflow.ingest.registry import SOURCES, ingest_order
from popflow.plugins import discover

# Bus stops: a public register of places, no person in it. A stop must lie in an ingested area, so the
# source reads the ``areas`` dataset and is ingested after it.
STOPS_MODULE = '''
from popflow.ingest import checks as q
from popflow.ingest.parsing import text_sql
from popflow.ingest.source import SourceSpec

RECORD = q.Record(raw={"stop_id": "stop_id", "area_id": "area_id"},
                  closed={"area_id": "area_id IN (SELECT area_id FROM areas)"}, pseudonyms=())


def parse(types, ctx):
    checks = [*q.missing("stop_id", "area_id"),
              q.Check(q.UNKNOWN_AREA, "area_id", "area_id NOT IN (SELECT area_id FROM areas)")]
    parsed = f"SELECT line, {text_sql('stop_id')} AS stop_id, {text_sql('area_id')} AS area_id FROM raw"
    return RECORD.query([("parsed", parsed)], checks, "stop_id, area_id")


SOURCE = SourceSpec(name="stops", required=("stop_id", "area_id"), optional=(), parse=parse,
                    schema={"stop_id": "VARCHAR", "area_id": "VARCHAR"}, key=("stop_id",), record=RECORD,
                    reads=("areas",))
'''


def install(site: Path, distribution: str, entry_points: str, module: str | None = None) -> None:
    """Install a distribution into ``site`` as pip does: its module (if any) and a dist-info with its entry
    points (``entry_points.txt`` text)."""
    if module is not None:
        (site / "popflow_stops.py").write_text(module)
    info = site / f"{distribution.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    discover.cache_clear()  # entry points are read once per process: read them again


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder on ``sys.path`` where tests install distributions; taken away (and forgotten) after."""
    folder = tmp_path / "site-packages"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    monkeypatch.undo()
    sys.modules.pop("popflow_stops", None)
    discover.cache_clear()


@pytest.fixture
def stops(site, tmp_path) -> Path:
    """The stops source installed, and a file of three stops: one in an area no one ingested (line 4)."""
    install(site, "popflow-stops", "[popflow.sources]\nstops = popflow_stops:SOURCE\n", STOPS_MODULE)
    path = tmp_path / "stops.csv"
    path.write_text("stop_id,area_id\nS1,A\nS2,B\nS3,Z\n")
    return path


def quarantined(ws, source: str) -> list[dict]:
    files = [str(f) for f in ws.lake.quarantine_files(source)]
    return duckdb.sql(f'SELECT file, line, "column", reason FROM read_parquet({files})').df().to_dict("records")


def test_built_in_sources_are_entry_points_ingested_after_what_they_read():
    assert {e.name for e in discover("popflow.sources")} == {
        "areas", "cells", "subscribers", "regions", "population", "fx", "events", "tickets", "sales", "holidays"}
    order = ingest_order()
    assert sorted(order) == sorted(SOURCES)
    assert all(order.index(needed) < order.index(name) for name in order for needed in SOURCES[name].reads)
    assert order.index("areas") < order.index("cells") < order.index("events")


def test_an_installed_source_is_ingested_by_the_cli_after_what_it_reads(small_ws, stops):
    assert "stops" in SOURCES and ingest_order().index("stops") > ingest_order().index("areas")
    assert "stops" in CliRunner().invoke(app, ["ingest", "--help"]).output
    result = CliRunner().invoke(app, ["ingest", "stops", str(stops), "-w", str(small_ws.path)])
    assert result.exit_code == 0, result.output
    assert "unknown_area" in result.output
    assert quarantined(small_ws, "stops") == [{"file": str(stops), "line": 4, "column": "area_id",
                                               "reason": "unknown_area"}]
    assert small_ws.connect().sql("SELECT stop_id, area_id FROM stops ORDER BY stop_id").fetchall() == [
        ("S1", "A"), ("S2", "B")]


def test_an_installed_source_is_ingested_by_python(small_ws, stops, tmp_path):
    more = tmp_path / "more-stops.csv"
    more.write_text("stop_id,area_id\nS4,C\nS4,A\n")
    report = small_ws.ingest("stops", [stops, more])
    assert report["rows"] == {"read": 5, "accepted": 3, "quarantined": 2}
    assert report["quarantined_by_reason"] == {"duplicate_key": 1, "unknown_area": 1}
    engine = open_engine("duckdb", small_ws)  # what indicators read
    assert engine.table("SELECT count(*) AS n FROM lake_stops").column("n").to_pylist() == [3]
    engine.close()
    assert {(r["file"], r["line"], r["column"], r["reason"]) for r in quarantined(small_ws, "stops")} == {
        (str(stops), 4, "area_id", "unknown_area"), (str(more), 3, "stop_id", "duplicate_key")}


def test_without_the_distribution_the_source_is_unknown(small_ws, tmp_path):
    assert "stops" not in SOURCES
    result = CliRunner().invoke(app, ["ingest", "stops", str(tmp_path / "x.csv"), "-w", str(small_ws.path)])
    assert result.exit_code == 2 and "'stops' is not one of 'areas'" in result.output
    with pytest.raises(PopflowError, match="unknown source 'stops'"):
        small_ws.ingest("stops", [tmp_path / "x.csv"])


BROKEN = [
    ("[popflow.sources]\nstops = no_such_module:SOURCE\n", None,
     "source 'stops' (no_such_module:SOURCE) cannot be loaded: No module named 'no_such_module'"),
    ("[popflow.sources]\nstops = popflow_stops:parse\n", STOPS_MODULE,
     "source 'stops' (popflow_stops:parse, from popflow-stops) is not a SourceSpec"),
    ("[popflow.sources]\nbus = popflow_stops:SOURCE\n", STOPS_MODULE,
     "source 'bus' (popflow_stops:SOURCE, from popflow-stops) names itself 'stops'"),
    ("[popflow.sources]\nStops = popflow_stops:SOURCE\n", STOPS_MODULE.replace('name="stops"', 'name="Stops"'),
     "source 'Stops' (popflow_stops:SOURCE, from popflow-stops): a source's name is lowercase letters, digits "
     "and _"),
]


@pytest.mark.parametrize(("entry_points", "module", "message"), BROKEN, ids=["import", "type", "name", "case"])
def test_a_broken_source_is_named_in_one_line(site, small_ws, tmp_path, entry_points, module, message):
    install(site, "popflow-stops", entry_points, module)
    result = CliRunner().invoke(app, ["ingest", "areas", str(tmp_path / "x.geojson"), "-w", str(small_ws.path)])
    assert isinstance(result.exception, SystemExit), f"uncaught {result.exception!r}"
    assert result.exit_code == 2 and result.output.strip() == f"error: {message}", result.output


def test_two_distributions_declaring_one_source_are_both_named(site, small_ws):
    for distribution in ("stops-a", "stops-b"):
        install(site, distribution, "[popflow.sources]\nstops = popflow_stops:SOURCE\n", STOPS_MODULE)
    with pytest.raises(PopflowError, match="repeats the name of") as refused:
        small_ws.ingest("areas", [])
    assert "from stops-a" in str(refused.value) and "from stops-b" in str(refused.value)
