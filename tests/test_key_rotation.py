"""Key rotation: new, unlinkable pseudonyms from a month's first day on."""

from __future__ import annotations

import datetime

import pandas as pd
import pytest

from popflow.errors import PopflowError

import scenario

ROTATION = datetime.date(2026, 2, 1)


@pytest.fixture
def rotated(tmp_path):
    events = scenario.random_events(n_people=20, days=10, per_day=6, start="2026-01-26")
    subs = scenario.subscribers(20)
    ws = scenario.workspace(tmp_path, events.iloc[:0], subs, k=2)
    ws.rotate_key(ROTATION, force=True)  # in the past relative to today, hence force
    paths = scenario.write_inputs(tmp_path / "again", events, subs)
    ws.ingest("events", [paths["events"]])
    ws.ingest("subscribers", [paths["subscribers"]])  # same register: new under the new key
    return ws


def test_rotation_refuses_mid_month_without_force(tmp_path):
    ws = scenario.workspace(tmp_path, scenario.random_events(3, 1, 2), k=2)
    with pytest.raises(PopflowError, match="mid-month"):
        ws.rotate_key(datetime.date(2099, 3, 15))
    assert ws.rotate_key().day == 1
    assert ws.rotate_key(datetime.date(2099, 3, 15), force=True) == datetime.date(2099, 3, 15)
    assert len(list(ws.path.glob("secret-*.key"))) == 2
    assert all(p.stat().st_mode & 0o077 == 0 for p in ws.path.glob("secret*.key"))


def test_pseudonyms_change_at_the_rotation_date(rotated):
    con = rotated.connect()
    before = {r[0] for r in con.sql("SELECT DISTINCT person FROM events WHERE date < DATE '2026-02-01'").fetchall()}
    after = {r[0] for r in con.sql("SELECT DISTINCT person FROM events WHERE date >= DATE '2026-02-01'").fetchall()}
    assert before and after and not before & after


def test_breakdowns_join_on_both_sides_of_the_rotation(rotated):
    df = rotated.run("present-population", by="gender").to_pandas()
    assert set(df["gender"]) <= {"F", "M"}  # every person found in the register, before and after
    assert df["time"].min() < pd.Timestamp("2026-02-01", tz=scenario.TIMEZONE) < df["time"].max()
    subscribers = rotated.connect().sql("SELECT count(*) FROM subscribers").fetchall()[0][0]
    assert subscribers == 40  # the register is held under both keys
