"""A workspace anywhere: paths holding a quote and a space reach SQL as one literal each."""

from __future__ import annotations

from popflow.sql import literal

import scenario


def test_a_literal_doubles_quotes():
    assert literal("/data/o'brien's ws") == "'/data/o''brien''s ws'"


def test_init_ingest_and_release_in_a_path_with_a_quote_and_a_space(tmp_path):
    folder = tmp_path / "the city's data" / "it's here"
    ws = scenario.workspace(folder, scenario.random_events(n_people=20, days=3, per_day=6),
                            scenario.subscribers(20))
    (folder / "inputs" / "bad's events.csv").write_text(
        "subscriber_id,timestamp,cell_id\n+8613900000001,not a time,X\n")
    ws.ingest("events", [folder / "inputs" / "bad's events.csv"])
    assert list(scenario.quarantined(ws, "events")["reason"]) == ["unparsable_time"]
    out = folder / "out's" / "present population.csv"
    out.parent.mkdir()
    release = ws.run("present-population", out=out, by=("gender",))
    assert out.exists() and release.table.num_rows > 0
    assert ws.run("present-population", privacy="dp", epsilon=1.0).table.num_rows > 0
