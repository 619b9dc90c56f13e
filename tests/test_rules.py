"""The building blocks' rules on hand-made events: ties, carry, the night window, time zones."""

from __future__ import annotations

import datetime

import pandas as pd
import pytest

from popflow.errors import PopflowError

import scenario

DAY = datetime.date(2026, 1, 20)  # a Tuesday


def clones(rows: list[tuple[str, str]], copies: int = 2) -> pd.DataFrame:
    """The same (local time, cell) events for `copies` people, so cells pass k=2."""
    out = []
    for person in range(copies):
        for local, cell in rows:
            utc = pd.Timestamp(local, tz=scenario.TIMEZONE).tz_convert("UTC")
            out.append((scenario.phone(person), utc.strftime("%Y-%m-%dT%H:%M:%SZ"), cell))
    return pd.DataFrame(out, columns=["subscriber_id", "timestamp", "cell_id"])


def presence(ws, **params) -> dict[tuple[str, str], int]:
    """Present people per (local HH:MM, area) by the bin-location rule (--method observed)."""
    df = ws.run("present-population", method="observed", **params).to_pandas()
    return {(t.strftime("%H:%M"), a): p for t, a, p in zip(df["time"], df["area_id"], df["people"], strict=True)}


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    rows = [
        # 08h: two events each in A and B; B holds the latest → B.
        ("2026-01-20 08:05", "a1"), ("2026-01-20 08:10", "b1"), ("2026-01-20 08:20", "a2"),
        ("2026-01-20 08:40", "b1"),
        # 09h: one each at the same second → smaller area_id A.
        ("2026-01-20 09:10", "b1"), ("2026-01-20 09:10", "c1"), ("2026-01-20 09:10", "a1"),
        # 10h: most events wins over the latest → A.
        ("2026-01-20 10:01", "a1"), ("2026-01-20 10:02", "a1"), ("2026-01-20 10:59", "c1"),
        # 12h in B, then silent until 16h in C.
        ("2026-01-20 12:30", "b1"), ("2026-01-20 16:15", "c1"),
        # Night of the 20th: C at 23:30 and 01:00, B at 05:59; 06:00 is outside the window.
        ("2026-01-20 23:30", "c1"), ("2026-01-21 01:00", "c1"), ("2026-01-21 05:59", "b1"),
        ("2026-01-21 06:00", "b1"), ("2026-01-21 06:01", "b1"),
    ]
    return scenario.workspace(tmp_path_factory.mktemp("rules"), clones(rows), k=2)


def test_tie_goes_to_latest_event_then_smaller_area(ws):
    got = presence(ws, date_from=DAY, date_to=DAY)
    assert got[("08:00", "B")] == 2 and ("08:00", "A") not in got
    assert got[("09:00", "A")] == 2 and ("09:00", "B") not in got and ("09:00", "C") not in got
    assert got[("10:00", "A")] == 2 and ("10:00", "C") not in got


def test_carry_fills_silent_bins_up_to_h_hours(ws):
    without = presence(ws, date_from=DAY, date_to=DAY)
    assert ("13:00", "B") not in without
    carried = presence(ws, date_from=DAY, date_to=DAY, carry=2)
    assert carried[("13:00", "B")] == 2 and carried[("14:00", "B")] == 2
    assert ("15:00", "B") not in carried  # 15:00 started 3 h after the 12:00 bin
    assert carried[("16:00", "C")] == 2  # an observed bin is never overwritten


def test_stays_absorb_ping_pong_and_meet_inside_the_gap(ws):
    # 08:05-10:02 alternates A, B and C, returning to A within the hour: one stay in A. Then C at 10:59, a single
    # B event at 12:30 and C again from 16:15: one stay in C, from the middle of the gap after A (10:30:30).
    df = ws.run("present-population", date_from=DAY, date_to=DAY).to_pandas()
    got = {(t.strftime("%H:%M"), a) for t, a in zip(df["time"], df["area_id"], strict=True)}
    # A stay reaches 6 h (max_gap / 2) before its first event at 08:05.
    assert got == {(f"{h:02d}:00", "A") for h in range(2, 11)} | {(f"{h:02d}:00", "C") for h in range(11, 24)}
    assert df["people"].eq(2).all()


def test_carry_is_refused_with_stays(ws):
    with pytest.raises(PopflowError, match="--carry fills silent bins of --method observed"):
        ws.run("present-population", date_from=DAY, date_to=DAY, carry=2)


def test_local_hours_follow_workspace_time_zone(ws):
    df = ws.run("present-population", date_from=DAY, date_to=DAY, method="observed").to_pandas()
    first = df["time"].min()
    assert str(first.tz) == scenario.TIMEZONE
    assert first.hour == 8 and first.utcoffset() == datetime.timedelta(hours=8)


def test_night_window_crosses_midnight(ws, tmp_path):
    # The home of a month needs 3 nights; check the night location through residents with min_nights=1.
    got = ws.run("residents", date_from=DAY, date_to=DAY, min_nights=1).to_pandas()
    assert got[["area_id", "people"]].values.tolist() == [["C", 2]]


def test_csv_time_has_iso_offset(ws, tmp_path):
    out = tmp_path / "presence.csv"
    ws.run("present-population", date_from=DAY, date_to=DAY, method="observed", out=out)
    first = out.read_text().splitlines()[1]
    assert first.startswith("2026-01-20T08:00:00+08:00,")
    assert (tmp_path / "presence.csv.manifest.json").exists()
