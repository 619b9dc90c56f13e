"""The synthetic scenario generator: file contracts, determinism and behaviour.

Small scenarios (1 000 people, 4 days across a month boundary) are generated once
per module; expectations are recomputed from the written files with independent
code (shapely point-in-polygon, pandas), not with the generator's internals.
"""

from __future__ import annotations

import datetime
import gzip
import json
import re

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from shapely.geometry import shape

from popflow.synth import generate
from popflow.synth.roamers import ROAMER_SHARE

PEOPLE, DAYS, SEED = 1000, 4, 7
START = datetime.date(2026, 1, 30)  # Friday: weekdays, a weekend and a month boundary
ZONE = "Asia/Shanghai"
EVENT_COLUMNS = ["subscriber_id", "timestamp", "cell_id", "event_type", "mcc"]
DAY_NAMES = [(START + datetime.timedelta(days=i)).isoformat() for i in range(DAYS)]


def _generate(folder, seed=SEED, events_format="csv", progress=None):
    return generate(folder, people=PEOPLE, days=DAYS, seed=seed, start=START, timezone=ZONE,
                    events_format=events_format, progress=progress)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scenario")
    stages = []
    summary = _generate(folder, progress=lambda stage, fraction: stages.append((stage, fraction)))
    return folder, summary, stages


@pytest.fixture(scope="module")
def folder(scenario):
    return scenario[0]


@pytest.fixture(scope="module")
def events(folder):
    frames = [
        pd.read_csv(folder / "events" / f"events-{name}.csv.gz", dtype=str, keep_default_na=False)
        for name in DAY_NAMES
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def districts(folder):
    """District id -> polygon, read from areas.geojson."""
    features = json.loads((folder / "areas.geojson").read_text())["features"]
    return {
        f["properties"]["area_id"]: shape(f["geometry"])
        for f in features if f["properties"]["level"] == "district"
    }


@pytest.fixture(scope="module")
def cell_district(folder, districts):
    """cell_id -> the one district containing the tower (None if not exactly one)."""
    cells = pd.read_csv(folder / "cells.csv", dtype={"cell_id": str})
    owners = {}
    for row in cells.itertuples():
        inside = [a for a, poly in districts.items() if poly.contains(shapely.Point(row.longitude,
                                                                                   row.latitude))]
        owners[row.cell_id] = inside[0] if len(inside) == 1 else None
    return owners


def _local_times(events: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(events["timestamp"], format="ISO8601").dt.tz_convert(ZONE)


def _header(path) -> list[str]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt") as handle:
        return handle.readline().strip().split(",")


def test_writes_exactly_the_contracted_files(scenario):
    folder, summary, _ = scenario
    written = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    monthly = [name for name in written if name.startswith(("tickets/", "sales/"))]
    assert all(re.fullmatch(r"(tickets/tickets|sales/sales)-\d{4}-\d\d\.csv\.gz", name) for name in monthly)
    assert ["sales/sales-2026-01.csv.gz", "sales/sales-2026-02.csv.gz"] == [m for m in monthly if "sales" in m]
    expected = ["areas.geojson", "cells.csv", "population.csv", "population_by_gender_age.csv", "subscribers.csv",
                "regions.csv", "fx.csv", *(f"events/events-{name}.csv.gz" for name in DAY_NAMES), *monthly,
                "truth/homes.csv", "truth/residents.csv", "truth/presence.parquet", "truth/trips.csv",
                "truth/tourism.csv", "truth/scenic.json",
                "truth/outbound_weekly.csv", "truth/outbound_shock.json", "truth/sales_penetration.csv"]
    assert written == sorted(expected)
    assert sorted(summary["files"]) == sorted(expected)


def test_csv_headers_are_the_contract(folder):
    assert _header(folder / "cells.csv") == ["cell_id", "latitude", "longitude"]
    assert _header(folder / "subscribers.csv") == [
        "subscriber_id", "gender", "birth_year", "origin_region", "registered_on"]
    assert _header(folder / "population.csv") == ["area_id", "population", "adults"]
    assert _header(folder / "regions.csv") == ["code", "name"]
    assert _header(folder / "population_by_gender_age.csv") == ["area_id", "gender", "age_band", "population"]
    assert _header(folder / "truth" / "homes.csv") == [
        "subscriber_id", "month", "home_area_id", "work_area_id"]
    assert _header(folder / "truth" / "residents.csv") == ["month", "area_id", "people", "adults", "subscribers"]
    assert _header(folder / "truth" / "trips.csv") == [
        "date", "origin", "destination", "trips", "travellers", "subscriber_trips", "subscriber_travellers"]
    for name in DAY_NAMES:
        assert _header(folder / "events" / f"events-{name}.csv.gz") == EVENT_COLUMNS


def test_area_hierarchy_tiles_the_region(folder, districts):
    features = json.loads((folder / "areas.geojson").read_text())["features"]
    props = pd.DataFrame([f["properties"] for f in features])
    levels = props["level"].value_counts().to_dict()
    assert levels["province"] == 1 and 3 <= levels["city"] <= 4 and levels["district"] == 24
    province = props[props.level == "province"].iloc[0]
    assert "parent_id" not in [k for f in features for k in f["properties"]
                               if f["properties"]["level"] == "province"]
    cities = props[props.level == "city"]
    assert set(cities.parent_id) == {province.area_id}
    assert set(props[props.level == "district"].parent_id) == set(cities.area_id)
    union = shapely.union_all(list(districts.values()))
    assert sum(p.area for p in districts.values()) == pytest.approx(union.area, rel=1e-6)
    lon0, lat0, lon1, lat1 = union.bounds
    assert (lon1 - lon0) * 102.4 == pytest.approx(60, rel=0.02)
    assert (lat1 - lat0) * 111.3 == pytest.approx(40, rel=0.02)
    assert union.centroid.y == pytest.approx(23.1, abs=0.05)
    assert union.centroid.x == pytest.approx(113.3, abs=0.05)
    geometry = {f["properties"]["area_id"]: shape(f["geometry"]) for f in features}
    for city in cities.area_id:
        parts = props[props.parent_id == city].area_id
        members = shapely.union_all([geometry[d] for d in parts])
        assert geometry[city].symmetric_difference(members).area < 1e-9


def test_every_tower_lies_inside_one_district(folder, cell_district, districts):
    cells = pd.read_csv(folder / "cells.csv", dtype={"cell_id": str})
    assert cells.cell_id.is_unique
    owners = pd.Series(cell_district)
    assert owners.notna().all()
    per_district = owners.value_counts()
    assert set(per_district.index) == set(districts) and per_district.min() >= 3
    assert len(cells) <= 4000


def test_subscribers_look_like_a_register(scenario, subscribers):
    summary = scenario[1]  # residents and tourists from other provinces on the operator's network
    assert len(subscribers) == summary["resident_subscribers"] + summary["visiting_subscribers"]
    assert 0.3 * PEOPLE < summary["resident_subscribers"] < 0.5 * PEOPLE and subscribers.subscriber_id.is_unique
    assert subscribers.subscriber_id.str.fullmatch(r"\+861\d{10}").all()
    assert set(subscribers.gender) <= {"F", "M", "other", "unknown"}
    assert subscribers.gender.isin(["F", "M"]).mean() > 0.9
    age = START.year - subscribers.birth_year.astype(int)
    assert age.between(10, 90).all() and (age >= 18).mean() > 0.8
    local = (subscribers.origin_region == "440000").mean()
    assert 0.85 < local < 0.99
    registered = pd.to_datetime(subscribers.registered_on, format="%Y-%m-%d")
    assert registered.notna().all()


def test_event_cells_exist_and_timestamps_carry_the_offset(events, cell_district):
    assert len(events) > 0 and list(events.columns) == EVENT_COLUMNS
    assert events.cell_id.isin(list(cell_district)).all()
    assert events.timestamp.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00").all()
    assert set(events.event_type) <= {"call", "sms", "data", "other"}
    assert events.event_type.value_counts().index[0] == "data"


def test_each_day_file_holds_that_local_day_in_time_order(folder):
    for name in DAY_NAMES:
        day = pd.read_csv(folder / "events" / f"events-{name}.csv.gz", dtype=str)
        assert (day.timestamp.str[:10] == name).all()
        assert day.timestamp.is_monotonic_increasing


def test_summary_counts_match_the_files(scenario, events, cell_district, subscribers):
    _, summary, stages = scenario
    assert summary["events"] == len(events)
    assert summary["cells"] == len(cell_district)
    assert summary["residents"] == PEOPLE
    assert summary["subscribers"] == len(subscribers)
    roaming = events[events.mcc != "460"].subscriber_id.nunique()
    assert 0 < roaming <= summary["roamers"] < summary["international_visitors"]
    assert summary["areas"] >= 28 and summary["days"] == DAYS
    assert stages[-1][0] == "truth" and ("events", 1.0) in stages


def test_same_seed_same_bytes_other_seed_differs(folder, tmp_path):
    again = tmp_path / "again"
    _generate(again)
    for relative in ["subscribers.csv", "cells.csv", "areas.geojson", "truth/homes.csv", "truth/trips.csv",
                     "truth/residents.csv", "population.csv", "population_by_gender_age.csv",
                     *(f"events/events-{name}.csv.gz" for name in DAY_NAMES)]:
        assert (again / relative).read_bytes() == (folder / relative).read_bytes(), relative
    assert pq.read_table(again / "truth/presence.parquet").equals(
        pq.read_table(folder / "truth/presence.parquet"))
    other = tmp_path / "other"
    _generate(other, seed=SEED + 1)
    assert (other / "subscribers.csv").read_bytes() != (folder / "subscribers.csv").read_bytes()


def test_parquet_events_hold_the_same_events_as_csv(events, tmp_path):
    _generate(tmp_path, events_format="parquet")
    files = sorted((tmp_path / "events").glob("events-*.parquet"))
    assert [f.name for f in files] == [f"events-{name}.parquet" for name in DAY_NAMES]
    table = pa.concat_tables([pq.read_table(f) for f in files])
    assert table.schema.names == EVENT_COLUMNS
    assert table.schema.field("timestamp").type == pa.int64()
    frame = table.to_pandas()
    epoch = (_local_times(events) - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta("1s")
    assert frame.timestamp.tolist() == epoch.tolist()
    assert frame.subscriber_id.tolist() == events.subscriber_id.tolist()
    assert frame.cell_id.tolist() == events.cell_id.tolist()


def test_presence_truth_counts_everyone_present(scenario, subscribers, homes, events):
    folder, summary, _ = scenario
    table = pq.read_table(folder / "truth" / "presence.parquet")
    assert table.schema.names == ["time", "area_id", "people", "subscribers", "weighted_subscribers"]
    assert table.schema.field("time").type == pa.timestamp("us", tz=ZONE)
    assert table.schema.field("people").type == table.schema.field("subscribers").type == pa.int64()
    presence = table.to_pandas()
    per_hour = presence.groupby("time")[["people", "subscribers"]].sum()
    assert len(per_hour) == 24 * DAYS and presence.groupby("time").size().eq(24).all()
    # everyone present, subscriber or not: all settled residents before any migrant or visitor arrives
    settled_people = PEOPLE - summary["migrants"]
    visitors = summary["domestic_visitors"] + summary["international_visitors"]
    assert per_hour.people.iloc[0] == settled_people
    assert per_hour.people.between(settled_people, PEOPLE + visitors).all()
    assert (per_hour.subscribers <= per_hour.people).all()
    assert 0.3 < per_hour.subscribers.sum() / per_hour.people.sum() < 0.5  # the operator's market share
    weighted = presence.groupby("time").weighted_subscribers.sum()  # subscribers standing for everyone
    assert ((weighted / per_hour.people) - 1).abs().max() < 0.1
    # people on the operator's network: its resident subscribers, visiting subscribers and roamers
    residents = subscribers[subscribers.subscriber_id.isin(homes.subscriber_id)]
    registered = pd.to_datetime(residents.registered_on).dt.date
    settled = int((registered < START).sum())
    assert per_hour.subscribers.iloc[0] == settled  # before any migrant or visitor arrives
    roamers, visiting = summary["roamers"], summary["visiting_subscribers"]
    assert summary["international_visitors"] == round(ROAMER_SHARE * PEOPLE)
    assert len(subscribers) == len(residents) + visiting
    for hour, total in per_hour.subscribers.items():
        arrived_before = int((registered < hour.date()).sum())
        arrived_by = int((registered <= hour.date()).sum())
        assert arrived_before <= total <= arrived_by + roamers + visiting
    callers = events.groupby(_local_times(events).dt.floor("h")).subscriber_id.nunique()
    assert (callers.to_numpy() <= per_hour.subscribers.reindex(callers.index).to_numpy()).all()


def test_migrants_are_silent_before_arrival(subscribers, events):
    registered = pd.to_datetime(subscribers.registered_on).dt.date
    migrants = subscribers[(registered >= START).to_numpy()]
    assert len(migrants) > 5 and (migrants.origin_region != "440000").all()
    merged = events.merge(migrants, on="subscriber_id")
    event_day = _local_times(merged).dt.date
    assert (event_day >= pd.to_datetime(merged.registered_on).dt.date).all()
    assert merged.subscriber_id.nunique() > 0.8 * len(migrants)


def test_night_events_are_mostly_at_the_true_home(events, homes, cell_district):
    local = _local_times(events)
    night = events[((local.dt.hour >= 22) | (local.dt.hour < 6)).to_numpy()].copy()
    night_start = (_local_times(night) - pd.Timedelta(hours=6))
    night["month"] = night_start.dt.strftime("%Y-%m")
    night["district"] = night.cell_id.map(cell_district)
    merged = night.merge(homes, on=["subscriber_id", "month"])
    assert len(merged) > 0.9 * len(night[night.mcc == "460"])
    assert (merged.district == merged.home_area_id).mean() > 0.75


def test_weekday_office_hours_are_mostly_at_work(events, homes, cell_district):
    local = _local_times(events)
    office = (local.dt.day_of_week < 5) & local.dt.hour.between(10, 15)
    daytime = events[office.to_numpy()].assign(month=local[office].dt.strftime("%Y-%m").to_numpy())
    merged = daytime.merge(homes[homes.work_area_id != ""], on=["subscriber_id", "month"])
    at_work = (merged.cell_id.map(cell_district) == merged.work_area_id).mean()
    assert at_work > 0.6


def test_activity_is_heavy_tailed_and_quiet_at_night(events):
    hours = _local_times(events).dt.hour.value_counts()
    assert hours.reindex([2, 3, 4]).sum() < 0.2 * hours.reindex([10, 11, 12]).sum()
    per_person = events.groupby("subscriber_id").size()
    assert per_person.quantile(0.99) > 4 * per_person.median()


def test_roamers_are_foreign_and_not_subscribers(events, subscribers):
    roaming = events[events.mcc != "460"]
    assert roaming.subscriber_id.nunique() >= 1
    assert set(roaming.mcc) <= {"310", "440", "262", "234", "450"}
    assert not roaming.subscriber_id.isin(subscribers.subscriber_id).any()
    assert events[events.mcc == "460"].subscriber_id.isin(subscribers.subscriber_id).all()


def test_homes_truth_covers_months_and_movers(homes, subscribers):
    assert set(homes.month) == {"2026-01", "2026-02"}
    assert homes.subscriber_id.isin(subscribers.subscriber_id).all()
    wide = homes.pivot(index="subscriber_id", columns="month", values="home_area_id").dropna()
    movers = (wide["2026-01"] != wide["2026-02"]).sum()
    residents = homes.subscriber_id.nunique()  # the subscribers among the residents
    assert 0.005 * residents <= movers <= 0.05 * residents
    working = (homes[homes.month == "2026-02"].work_area_id != "").mean()
    assert 0.5 < working < 0.8


def test_census_counts_every_resident_at_the_first_home(folder, homes, districts):
    census = pd.read_csv(folder / "population.csv", dtype={"area_id": str})
    assert sorted(census.area_id) == sorted(districts)
    assert census.population.sum() == PEOPLE  # subscribers or not, migrants included
    first = homes.sort_values("month").drop_duplicates("subscriber_id")
    subscribing = first.home_area_id.value_counts().reindex(census.area_id, fill_value=0)
    assert (subscribing.to_numpy() <= census.population.to_numpy()).all()
    assert 0.3 < subscribing.sum() / census.population.sum() < 0.5  # the operator's market share
    assert (census.adults <= census.population).all()
    assert census.adults.sum() > 0.8 * census.population.sum()


def test_long_form_census_adds_up_to_the_census(folder):
    census = pd.read_csv(folder / "population.csv", dtype={"area_id": str}).set_index("area_id")
    long = pd.read_csv(folder / "population_by_gender_age.csv", dtype=str)
    assert set(long.gender) == {"F", "M", "other"}
    assert set(long.age_band) == {"<15", *(f"{a}-{a + 4}" for a in range(15, 80, 5)), "80+"}
    assert len(long) == len(census) * 3 * 15  # every class, zeros included
    totals = long.assign(population=long.population.astype(int)).groupby("area_id").population.sum()
    assert totals.reindex(census.index).tolist() == census.population.tolist()


def test_rejects_unknown_event_format(tmp_path):
    with pytest.raises(ValueError, match="events_format"):
        generate(tmp_path, people=10, days=1, events_format="xml")


def test_every_origin_region_has_a_name(folder, subscribers):
    names = pd.read_csv(folder / "regions.csv", dtype=str).set_index("code")["name"]
    assert set(subscribers["origin_region"]) <= set(names.index)
    assert names["440000"] == "Guangdong"
