"""The offline HTML report: self-contained, sections follow the tables given, maps and text correct."""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa
import pytest

from popflow.report import SECTIONS, build_report
from popflow.report.markup import fmt_number

HEADINGS = {s.anchor: s.heading for s in SECTIONS}
TRICKY_NAME = "Old <Town> & Co"
ACCURACY = {"home_accuracy": 0.91, "people_with_detected_home": 18000,
            "presence_error": {"carry_0": {"median_abs_pct": 12.3, "weighted_abs_pct": 9.8}}}
QUALITY = [{"source": "events", "rows": {"read": 1200, "accepted": 1100, "quarantined": 100},
            "quarantined_by_reason": {"bad_time": 60, "unknown_cell": 40}, "distinct_people": 40,
            "time_span": {"first": "2026-01-01T00:00:00", "last": "2026-01-03T23:00:00"},
            "records_per_person": {"p50": 27.0, "p90": 40.5}}]


def grid_areas(count: int) -> list[dict]:
    """``count`` 0.1° squares in a row of columns of two, near 40°N; area a0 has a name needing escapes."""
    areas = []
    for i in range(count):
        lon, lat = 10 + 0.1 * (i // 2), 40 + 0.1 * (i % 2)
        wkt = f"POLYGON(({lon} {lat}, {lon + .1} {lat}, {lon + .1} {lat + .1}, {lon} {lat + .1}, {lon} {lat}))"
        areas.append({"area_id": f"a{i}", "name": TRICKY_NAME if i == 0 else f"Area {i}",
                      "parent_id": None, "level": "district", "geometry": wkt})
    return areas


def present_population(area_ids: list[str]) -> pa.Table:
    """Two days of hourly counts; a1 has hour 5 suppressed."""
    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    rows = [(start + dt.timedelta(hours=h), a, 20 + 3 * i + h % 7)
            for h in range(48) for i, a in enumerate(area_ids) if not (a == "a1" and h == 5)]
    times, ids, people = zip(*rows, strict=True)
    return pa.table({"time": pa.array(times, pa.timestamp("us", tz="Europe/Paris")),
                     "area_id": pa.array(ids, pa.string()), "people": pa.array(people, pa.int64())})


def od_flows(area_ids: list[str]) -> pa.Table:
    """Every ordered pair of distinct areas on two days; one day's trips withheld for the first pair."""
    pairs = [(o, d) for o in area_ids for d in area_ids if o != d]
    rows = [(day, o, d, None if (n == 0 and day.day == 1) else 30 + n, 20 + n)
            for day in (dt.date(2026, 1, 1), dt.date(2026, 1, 2)) for n, (o, d) in enumerate(pairs)]
    date, origin, destination, trips, travellers = zip(*rows, strict=True)
    return pa.table({"date": pa.array(date, pa.date32()), "origin": origin, "destination": destination,
                     "trips": pa.array(trips, pa.int64()), "travellers": pa.array(travellers, pa.int64())})


def all_tables(area_ids: list[str]) -> dict[str, pa.Table]:
    """One small table of every kind; the last area has no residents in the latest period."""
    residents = [("2026-01", a, 100 + i) for i, a in enumerate(area_ids)]
    residents += [("2026-02", a, 110 + i) for i, a in enumerate(area_ids[:-1])]
    return {
        "present-population": present_population(area_ids),
        "residents": pa.table(dict(zip(("period", "area_id", "people"), zip(*residents, strict=True), strict=True))),
        "workers": pa.table({"period": ["2026-02"] * 2, "work_area_id": area_ids[:2],
                             "home_area_id": area_ids[1:3], "people": pa.array([40, 25], pa.int64())}),
        "od-flows": od_flows(area_ids),
        "migration": pa.table({"period_from": ["2026-01"], "period_to": ["2026-02"], "from_area": [area_ids[0]],
                               "to_area": [area_ids[1]], "people": pa.array([17], pa.int64())}),
        "arrivals": pa.table({"period_from": ["2026-01"] * 3, "period_to": ["2026-02"] * 3,
                              "to_area": area_ids[:3], "origin_region": ["north", "south", "north"],
                              "people": pa.array([20, 30, 25], pa.int64())}),
    }


def render(tmp_path, tables, areas=None, accuracy=ACCURACY, quality=QUALITY, regions=None) -> str:
    areas = grid_areas(4) if areas is None else areas
    out = build_report(tmp_path / "report" / "r.html", tables, areas, accuracy, quality, k_anonymity=15,
                       regions=regions)
    assert out.exists()
    return out.read_text(encoding="utf-8")


def section_html(text: str, anchor: str) -> str:
    found = re.search(rf'<section id="{anchor}">(.*?)</section>', text, re.S)
    assert found, f"section {anchor} missing"
    return found.group(1)


@pytest.fixture(scope="module")
def full_report(tmp_path_factory) -> str:
    return render(tmp_path_factory.mktemp("full"), all_tables([f"a{i}" for i in range(4)]))


def test_report_is_self_contained(full_report):
    for forbidden in ("<script", "<link", "http://", "https://", "@import", "url(http"):
        assert forbidden not in full_report
    assert "at least 15 people" in full_report


CORE_SECTIONS = ("present-population", "residents", "od-flows", "workers", "migration", "accuracy", "data-quality")


def test_every_section_appears_in_order(full_report):
    positions = [full_report.index(f"<h2>{HEADINGS[anchor]}</h2>") for anchor in CORE_SECTIONS]
    assert positions == sorted(positions)


TABLE_OF_SECTION = {"present-population": "present-population", "residents": "residents", "od-flows": "od-flows",
                    "workers": "workers", "migration": "migration", "arrivals": "migration"}


@pytest.mark.parametrize("table", sorted(TABLE_OF_SECTION))
def test_section_follows_its_table(tmp_path, table):
    tables = all_tables([f"a{i}" for i in range(4)])
    heading = HEADINGS[TABLE_OF_SECTION[table]]
    only = render(tmp_path, {table: tables[table]}, accuracy=None, quality=[])
    assert f"<h2>{heading}</h2>" in only
    others = {k: v for k, v in tables.items() if TABLE_OF_SECTION[k] != TABLE_OF_SECTION[table]}
    assert f"<h2>{heading}</h2>" not in render(tmp_path, others)


def test_accuracy_and_quality_sections_skipped_when_absent(tmp_path, full_report):
    assert "presence error › carry 0 › median abs pct" in full_report
    assert "synthetic ground truth" in full_report
    assert "1,200" in full_report and "bad_time: 60" in full_report
    bare = render(tmp_path, {}, accuracy=None, quality=[])
    for anchor in HEADINGS:
        assert f'<section id="{anchor}">' not in bare


def test_choropleth_draws_each_area_and_marks_missing_values(full_report):
    residents = section_html(full_report, "residents")
    assert len(re.findall(r'<path[^>]*class="area"', residents)) == 4
    assert "too few to show" in residents
    assert 'fill="url(#too-few)"' in residents
    assert "2026-02" in residents  # the latest period is shown


def test_no_too_few_fill_when_every_area_has_a_value(tmp_path):
    tables = {"residents": pa.table({"period": ["2026-01"] * 4, "area_id": [f"a{i}" for i in range(4)],
                                     "people": pa.array([10, 20, 30, 40], pa.int64())})}
    residents = section_html(render(tmp_path, tables), "residents")
    assert residents.count('fill="url(#too-few)"') == 1  # the legend swatch only


def test_area_names_are_escaped(full_report):
    assert "Old &lt;Town&gt; &amp; Co" in full_report
    assert TRICKY_NAME not in full_report


@pytest.mark.parametrize(("areas", "lines"), [(4, 12), (6, 20)])
def test_od_map_draws_top_pairs(tmp_path, areas, lines):
    ids = [f"a{i}" for i in range(areas)]
    flows = section_html(render(tmp_path, {"od-flows": od_flows(ids)}, areas=grid_areas(areas)), "od-flows")
    assert len(re.findall(r'<line[^>]*class="flow"', flows)) == lines
    assert flows.count("<tr>") == lines + 1  # header row + one row per pair


def test_withheld_trips_are_a_lower_bound(full_report):
    assert "≥ 30" in section_html(full_report, "od-flows")


def test_suppressed_hours_are_gaps_not_zeros(full_report):
    chart = section_html(full_report, "present-population")
    paths = re.findall(r'<path d="([^"]*)"[^>]*class="series"', chart)
    assert len(paths) == 4
    assert sorted(p.count("M") for p in paths) == [1, 1, 1, 2]
    assert "shown here: 1." in chart


def test_missing_geometry_does_not_break_maps(tmp_path):
    areas = [dict(a, geometry=None) for a in grid_areas(4)]
    text = render(tmp_path, all_tables([f"a{i}" for i in range(4)]), areas=areas)
    assert "nothing to draw" in section_html(text, "residents")


def test_empty_tables_keep_their_sections(tmp_path):
    tables = {name: table.slice(0, 0) for name, table in all_tables([f"a{i}" for i in range(4)]).items()}
    text = render(tmp_path, tables)
    for anchor in ("present-population", "residents", "od-flows", "workers", "migration"):
        assert f'<section id="{anchor}">' in text


def test_numbers_are_formatted_for_readers():
    assert fmt_number(1234567) == "1,234,567"
    assert fmt_number(0.9134) == "0.91"
    assert fmt_number(None) == "—"
    assert fmt_number(float("nan")) == "—"


def test_estimates_of_everyone_stand_next_to_counts(tmp_path):
    """With estimates, the busiest hour's busiest areas show the count, the estimate and its 90 % interval."""
    table = present_population(["a0", "a1", "a2"])
    people = table.column("people").to_numpy()
    estimate = people * 2.5 + [10.0 if t.hour == 13 else 0.0 for t in table.column("time").to_pylist()]
    table = table.append_column("estimate", pa.array(estimate)).append_column(
        "estimate_low", pa.array(estimate * 0.9)).append_column("estimate_high", pa.array(estimate * 1.1))
    html = section_html(render(tmp_path, {"present-population": table}, grid_areas(3)), "present-population")
    assert "Estimate of everyone" in html and "the busiest hour" in html
    busiest = max(range(table.num_rows), key=lambda i: estimate[i])
    assert fmt_number(estimate[busiest]) in html
    assert f"{fmt_number(estimate[busiest] * 0.9)} – {fmt_number(estimate[busiest] * 1.1)}" in html


def test_without_estimates_no_estimate_table(full_report):
    assert "Estimate of everyone" not in section_html(full_report, "present-population")


def test_accuracy_rows_say_what_they_mean(tmp_path):
    scores = {"presence_error": {"estimate_vs_everyone": {"weighted_abs_pct": 6.0},
                                 "vs_everyone": {"weighted_abs_pct": 92.0}}}
    html = section_html(render(tmp_path, {"present-population": present_population(["a0"])}, accuracy=scores),
                        "accuracy")
    assert "What it means" in html
    assert "the figure to read as people present (Σ|published − true| ÷ Σ true, %)" in html
    assert "do not read counts as people" in html
