"""The synthetic world's realism: market share, sparse bursty activity, ping-pong, truth for everyone.

One region of 6 000 residents over a week is generated once; expectations are
recomputed from the written files with pandas and shapely. The trip and
tourism tallies are also checked on hand-made whereabouts.
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from popflow.synth import generate
from popflow.synth.clock import build_period
from popflow.synth.profiles import RESIDENT, ROAMER, Profiles
from popflow.synth.tourism_truth import TourismTally
from popflow.synth.trip_truth import TripTally

from synth_support import cell_districts

PEOPLE, DAYS, SEED = 6000, 7, 3
START = datetime.date(2026, 3, 2)  # a Monday
ZONE = "Asia/Shanghai"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("world")
    return folder, generate(folder, people=PEOPLE, days=DAYS, seed=SEED, start=START, timezone=ZONE)


@pytest.fixture(scope="module")
def folder(world):
    return world[0]



@pytest.fixture(scope="module")
def events(folder):
    frame = pd.concat([pd.read_csv(f, dtype=str) for f in sorted((folder / "events").glob("events-*.csv.gz"))])
    local = pd.to_datetime(frame.timestamp, format="ISO8601").dt.tz_convert(ZONE)
    frame = frame.assign(time=local, district=frame.cell_id.map(cell_districts(folder)))
    return frame.sort_values(["subscriber_id", "time"], kind="stable").reset_index(drop=True)


def test_market_share_varies_by_district_between_20_and_60_percent(folder):
    residents = pd.read_csv(folder / "truth" / "residents.csv")
    share = residents.subscribers / residents.people
    assert residents.people.sum() == PEOPLE and 0.3 < residents.subscribers.sum() / PEOPLE < 0.5
    assert share.between(0.15, 0.65).all() and share.max() - share.min() > 0.1


def test_market_share_is_higher_among_young_adults_than_the_old(folder, subscribers, homes):
    census = pd.read_csv(folder / "population_by_gender_age.csv", dtype={"population": int})
    residents = subscribers[subscribers.subscriber_id.isin(homes.subscriber_id)]
    ages = START.year - residents.birth_year.astype(int)
    young, old = ages.between(20, 34).sum(), (ages >= 65).sum()
    census_young = census[census.age_band.isin(["20-24", "25-29", "30-34"])].population.sum()
    census_old = census[census.age_band.isin(["65-69", "70-74", "75-79", "80+"])].population.sum()
    assert young / census_young > 1.3 * old / census_old
    assert 0.2 <= old / census_old and young / census_young <= 0.6


def test_a_third_of_subscribers_make_under_five_events_a_day(events, subscribers, homes):
    settled = subscribers[subscribers.subscriber_id.isin(homes.subscriber_id)
                          & (pd.to_datetime(subscribers.registered_on).dt.date < START)]
    per_day = events.subscriber_id.value_counts().reindex(settled.subscriber_id, fill_value=0) / DAYS
    assert 0.25 < (per_day < 5).mean() < 0.42
    assert per_day.quantile(0.99) > 8 * per_day.median()


def test_activity_comes_in_bursts_and_most_hours_are_silent(events):
    same_person = events.subscriber_id.eq(events.subscriber_id.shift())
    gap = (events.time - events.time.shift()).dt.total_seconds()[same_person]
    assert (gap < 300).mean() > 0.4  # events of one session minutes apart
    active_hours = events.groupby([events.subscriber_id, events.time.dt.date]).time.agg(lambda t: t.dt.hour.nunique())
    assert active_hours.median() <= 6
    hours = events.time.dt.hour.value_counts(normalize=True)
    assert hours.reindex(range(1, 6)).sum() < 0.04  # quiet nights


def test_phones_near_a_border_ping_pong_between_districts_within_minutes(events, homes):
    """At night, at home: events alternating home → neighbour → home within ten minutes."""
    night = events[events.time.dt.hour < 5]
    home = homes.drop_duplicates("subscriber_id").set_index("subscriber_id").home_area_id
    night = night.assign(home=night.subscriber_id.map(home)).dropna(subset=["home"])
    previous, following = night.shift(1), night.shift(-1)
    alternation = (night.district != night.home) & (previous.district == night.home) \
        & (following.district == night.home) & (previous.subscriber_id == night.subscriber_id) \
        & (following.subscriber_id == night.subscriber_id) \
        & ((following.time - previous.time).dt.total_seconds() < 600)
    ping_pong = night[alternation]
    assert ping_pong.subscriber_id.nunique() > 0.02 * len(home)
    pairs = ping_pong.groupby("subscriber_id").district.nunique()
    assert (pairs == 1).mean() > 0.8  # the same tower across the same border, night after night


def test_trips_truth_counts_everyone_and_its_subscribers(folder, world):
    trips = pd.read_csv(folder / "truth" / "trips.csv", dtype={"date": str})
    assert (trips.origin != trips.destination).all() and (trips.trips > 0).all()
    assert (trips.subscriber_trips <= trips.trips).all() and (trips.travellers <= trips.trips).all()
    assert (trips.subscriber_travellers <= trips.subscriber_trips).all()
    assert (trips.subscriber_travellers <= trips.travellers).all()
    assert sorted(set(trips.date)) == [(START + datetime.timedelta(days=d)).isoformat() for d in range(DAYS)]
    per_day = trips.groupby("date").trips.sum()
    assert (per_day > 0.5 * PEOPLE).all()  # commutes, outings and visits
    assert 0.3 < trips.subscriber_trips.sum() / trips.trips.sum() < 0.5


def test_tourism_truth_for_subscribers_is_part_of_everyone(folder):
    truth = pd.read_csv(folder / "truth" / "tourism.csv")
    assert (truth.subscriber_visitors <= truth.visitors).all() and (truth.subscriber_nights <= truth.nights).all()
    assert 0.25 < truth.subscriber_visitors.sum() / truth.visitors.sum() < 0.55


def test_residents_truth_matches_the_census_and_the_homes(folder, homes):
    residents = pd.read_csv(folder / "truth" / "residents.csv", dtype={"month": str})
    census = pd.read_csv(folder / "population.csv").set_index("area_id")
    first = residents[residents.month == residents.month.min()].set_index("area_id")
    assert first.people.reindex(census.index).tolist() == census.population.tolist()  # one month: no moves
    counted = homes.groupby(["month", "home_area_id"]).size()
    expected = residents.set_index(["month", "area_id"]).subscribers
    assert counted.reindex(expected.index, fill_value=0).tolist() == expected.tolist()
    assert (residents.adults <= residents.people).all()


def _profiles(on_network: list[bool], kind: list[int]) -> Profiles:
    count = len(kind)
    zeros, none = np.zeros(count, dtype=np.float32), np.full(count, -1, dtype=np.int16)
    return Profiles(
        ids=pa.array([f"p{i}" for i in range(count)]), on_network=np.array(on_network),
        place_key=np.zeros(count, dtype=np.uint32), kind=np.array(kind, dtype=np.int8), mcc=pa.array(["460"] * count),
        home=np.zeros(count, dtype=np.int16), new_home=np.zeros(count, dtype=np.int16),
        move_day=np.full(count, 9, dtype=np.int16), work=none, leave_hour=zeros, work_hours=zeros,
        works_saturday=np.zeros(count, bool), sightseer=np.zeros(count, bool),
        arrive_slot=np.zeros(count, dtype=np.int32), depart_slot=np.full(count, 48, dtype=np.int32), rate=zeros,
    )


def test_trip_tally_on_hand_made_whereabouts():
    """Three people over two days, trips written out by hand."""
    period = build_period(datetime.date(2026, 1, 10), 2, ZONE)
    first, second = np.zeros((24, 3), dtype=np.int16), np.zeros((24, 3), dtype=np.int16)
    first[8:17, 0] = 1  # commute 0 -> 1 -> 0 on day one, by a subscriber
    first[23, 1] = 2  # 0 -> 2 at 23:00 on day one, back at 02:00 on day two: one trip each day
    second[:2, 1] = 2
    first[:12, 2], first[12:, 2] = -1, 1  # arrives in the region in district 1: no trip
    second[:, 2] = 1
    second[20:, 2] = 0  # then 1 -> 0 on day two
    tally = TripTally(period, 3)
    served = np.array([True, False, True])
    tally.add(period.days[0], first, served)
    tally.add(period.days[1], second, served)
    table = tally.table(SimpleNamespace(district_ids=["A", "B", "C"])).to_pandas()
    got = {(r.date, r.origin, r.destination): (r.trips, r.travellers, r.subscriber_trips, r.subscriber_travellers)
           for r in table.itertuples()}
    assert got == {("2026-01-10", "A", "B"): (1, 1, 1, 1), ("2026-01-10", "B", "A"): (1, 1, 1, 1),
                   ("2026-01-10", "A", "C"): (1, 1, 0, 0), ("2026-01-11", "C", "A"): (1, 1, 0, 0),
                   ("2026-01-11", "B", "A"): (1, 1, 1, 1)}


def test_tourism_tally_counts_subscribers_apart():
    """A resident off the operator's network and a roamer on it, both visiting district 2."""
    period = build_period(datetime.date(2026, 1, 10), 1, ZONE)
    where = np.zeros((24, 2), dtype=np.int16)
    where[20:, 0] = 2  # resident sleeps away in 2: overnight visitor
    where[10:, 1] = 2  # roamer seen in 0 and 2, sleeps in 2
    tally = TourismTally(period, 3)
    tally.add(period.days[0], where, _profiles([False, True], [RESIDENT, ROAMER]))
    table = tally.table(SimpleNamespace(district_ids=["A", "B", "C"])).to_pandas()
    got = table[table.visitors > 0].set_index(["area_id", "visitor_type"])
    columns = ["visitors", "nights", "subscriber_visitors", "subscriber_nights"]
    assert {key: tuple(row) for key, row in got[columns].iterrows()} == {
        ("C", "domestic_overnight"): (1, 1, 0, 0), ("A", "international"): (1, 0, 1, 0),
        ("C", "international"): (1, 1, 1, 1)}
