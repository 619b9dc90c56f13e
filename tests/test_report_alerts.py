"""The report's alerts: both directions, strongest first, each with a small chart of its series around the point."""

from __future__ import annotations

import math
import re

import pyarrow as pa
import pytest
from test_report import render, section_html

WEEKS = [f"2026-W{w:02d}" for w in range(1, 15)]
K = 15


def watched_table() -> pa.Table:
    """Weekly trips to FR (a jump in week 6) and KR (a collapse below k from week 9: those cells suppressed)."""
    rows = [(week, "FR", 200 + 5 * w + (180 if w == 5 else 0)) for w, week in enumerate(WEEKS)]
    rows += [(week, "KR", 60 + w) for w, week in enumerate(WEEKS) if w < 8]
    week, country, trips = zip(*rows, strict=True)
    n = len(rows)
    return pa.table({"week": week, "destination_country": country, "trips": pa.array(trips, pa.int64()),
                     "travellers": pa.array(trips, pa.int64()), "spend_total": [1000.0] * n,
                     "spend_median": [900.0] * n,
                     "premium_share": [0.1] * n, "change_vs_prev_year": pa.nulls(n, pa.float64()),
                     "change_vs_prev_4w": [0.0] * n, "currency": ["CNY"] * n})


def alerts_table() -> pa.Table:
    return pa.table({
        "series": ["outbound-travel:trips", "outbound-travel:trips", "tourism:visitors"],
        "time": ["2026-W06", "2026-W09", "2026-01-07"], "key": ["FR", "KR", "a0"],
        "value": [405.0, None, 12.0], "below": [None, float(K), None],
        "expected": [226.5, 67.0, 60.0], "score": [3.4, -6.1, -5.3], "direction": ["up", "down", "down"]})


@pytest.fixture(scope="module")
def rows(tmp_path_factory) -> list[str]:
    tables = {"outbound-travel": watched_table(), "alerts": alerts_table()}
    html = section_html(render(tmp_path_factory.mktemp("alerts"), tables, accuracy=None, quality=[]), "alerts")
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def cells(row: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)


def test_both_directions_strongest_first(rows):
    assert [cells(r)[6] for r in rows] == ["-6.1", "-5.3", "+3.4"]
    assert "▼ below" in rows[0] and "▲ above" in rows[2]


def test_one_chart_per_alert(rows):
    for row in rows:
        assert len(re.findall(r'<svg[^>]*class="alert-chart"', row)) == 1
        assert row.count('class="alert-point') == 1 and row.count('class="expected"') == 1


def test_chart_draws_the_published_series_around_the_point(rows):
    chart = cells(rows[2])[7]
    dots = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="1.8"', chart)
    assert len(dots) == 5 + 1 + 4  # W06 has 5 published weeks before it; 4 after
    point = re.search(r'class="alert-point"><title>value 405</title><circle cx="([\d.]+)" cy="([\d.]+)" r="4"', chart)
    assert point and float(point.group(2)) == min(float(y) for _, y in dots)  # the jump is the highest point
    assert "2026-W01" in chart and "2026-W10" in chart  # W01..W10: 5 before, 4 after


def test_censored_alert_shows_below_k_never_a_count(rows):
    value, chart = cells(rows[0])[4], cells(rows[0])[7]
    assert value == f"&lt;{K}"
    assert f"&lt;{K}</text>" in chart and f"below {K} (not published)" in chart
    assert 'class="below-k"' in chart
    title = re.search(r"<title>(.*?)</title>", chart).group(1)
    assert f"at 2026-W09 &lt;{K}" in title
    ring = re.search(r'class="alert-point censored">.*?<circle cx="[\d.]+" cy="([\d.]+)"', chart).group(1)
    line = re.search(r'y1="([\d.]+)"[^>]*class="below-k"', chart).group(1)
    assert math.isclose(float(ring), float(line))
    assert 'r="1.8"' in chart and chart.count('r="1.8"') == 8  # KR's published weeks W01–W08 only
