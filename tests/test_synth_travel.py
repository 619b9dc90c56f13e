"""The synthetic scenario's tourists, outbound tickets, exchange rates and retail sales.

Two scenarios are generated once per module: a small region (4 000 residents over
12 days around the National Day holiday, a month boundary and two weekends) for
tourism and sales, and a 20 000-resident one-day region for the volume of outbound
travel, which spans two years whatever the period. Expectations are recomputed from
the written files with independent code (airportsdata, pandas, shapely); the tourism
truth is also checked on hand-made whereabouts of five people.
"""

from __future__ import annotations

import datetime
import gzip
import json
import re
from types import SimpleNamespace

import airportsdata
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from popflow.synth import generate
from popflow.synth.clock import build_period
from popflow.synth.profiles import DOMESTIC_VISITOR, RESIDENT, ROAMER, Profiles
from popflow.synth.tourism_truth import TourismTally

from synth_support import cell_districts

PEOPLE, DAYS, SEED = 4000, 12, 11
START = datetime.date(2025, 9, 25)  # Thursday; National Day holiday 1-7 October
LAST = START + datetime.timedelta(days=DAYS - 1)
ZONE = "Asia/Shanghai"
TICKET_COLUMNS = ["ticket_id", "traveller_id", "purchased_at", "departs_at", "origin", "destination",
                  "destination_country", "fare", "currency", "cabin", "channel"]
SALES_COLUMNS = ["order_id", "customer_id", "ordered_at", "region_id", "category", "amount", "currency", "channel"]
ISO_LOCAL = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00"


def _generate(folder, seed=SEED, people=PEOPLE, days=DAYS, start=START):
    return generate(folder, people=people, days=days, seed=seed, start=start, timezone=ZONE)


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    folder = tmp_path_factory.mktemp("region")
    return folder, _generate(folder)


@pytest.fixture(scope="module")
def folder(region):
    return region[0]


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """20 000 residents, one day: the outbound-travel volume the brief asks for."""
    folder = tmp_path_factory.mktemp("big")
    _generate(folder, seed=5, people=20_000, days=1, start=datetime.date(2026, 3, 1))
    return folder


def _read_monthly(folder, kind):
    files = sorted((folder / kind).glob(f"{kind}-*.csv.gz"))
    frames = [pd.read_csv(f, dtype=str, keep_default_na=False).assign(file=f.name) for f in files]
    return pd.concat(frames, ignore_index=True)


def _local(texts: pd.Series) -> pd.Series:
    return pd.to_datetime(texts, format="ISO8601").dt.tz_convert(ZONE)


def _iso_week(dates: pd.Series) -> pd.Series:
    calendar = pd.to_datetime(dates).dt.isocalendar()
    return calendar.year.astype(str) + "-W" + calendar.week.astype(str).str.zfill(2)


@pytest.fixture(scope="module")
def tickets(folder):
    return _read_monthly(folder, "tickets")


@pytest.fixture(scope="module")
def big_tickets(big):
    return _read_monthly(big, "tickets")


@pytest.fixture(scope="module")
def sales(folder):
    return _read_monthly(folder, "sales")


@pytest.fixture(scope="module")
def fx(folder):
    return pd.read_csv(folder / "fx.csv", dtype={"date": str, "currency": str})


@pytest.fixture(scope="module")
def scenic(folder):
    return json.loads((folder / "truth" / "scenic.json").read_text())["scenic_districts"]


@pytest.fixture(scope="module")
def events(folder):
    frames = [pd.read_csv(f, dtype=str) for f in sorted((folder / "events").glob("events-*.csv.gz"))]
    frame = pd.concat(frames, ignore_index=True)
    local = _local(frame.timestamp)
    return frame.assign(date=local.dt.date, hour=local.dt.hour, district=frame.cell_id.map(cell_districts(folder)))



def _header(path) -> list[str]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt") as handle:
        return handle.readline().strip().split(",")


def test_files_and_columns_are_the_contract(folder, region, tickets, sales):
    for path in (folder / "tickets").glob("*.csv.gz"):
        assert _header(path) == TICKET_COLUMNS
    for path in (folder / "sales").glob("*.csv.gz"):
        assert _header(path) == SALES_COLUMNS
    assert _header(folder / "fx.csv") == ["date", "currency", "rate_to_base"]
    truth = folder / "truth"
    assert _header(truth / "tourism.csv") == ["date", "area_id", "visitor_type", "visitors", "nights",
                                              "subscriber_visitors", "subscriber_nights"]
    assert _header(truth / "outbound_weekly.csv") == [
        "week", "destination_country", "trips", "travellers", "spend_total_cny"]
    assert _header(truth / "sales_penetration.csv") == [
        "month", "region_id", "buyers", "orders", "revenue", "adult_residents"]
    shock = json.loads((truth / "outbound_shock.json").read_text())
    assert set(shock) == {"destination_country", "week"} and re.fullmatch(r"\d{4}-W\d\d", shock["week"])
    assert len(json.loads((truth / "scenic.json").read_text())["scenic_districts"]) in (3, 4)
    assert tickets.file.str[8:15].eq(_local(tickets.purchased_at).dt.strftime("%Y-%m")).all()
    assert sales.file.str[6:13].eq(_local(sales.ordered_at).dt.strftime("%Y-%m")).all()
    assert sorted(set(sales.file)) == ["sales-2025-09.csv.gz", "sales-2025-10.csv.gz"]
    summary = region[1]
    assert summary["tickets"] == len(tickets) and summary["orders"] == len(sales)
    assert summary["travellers"] == tickets.traveller_id.nunique()


def test_same_seed_same_bytes_other_seed_differs(folder, tmp_path):
    again, other = tmp_path / "again", tmp_path / "other"
    _generate(again)
    _generate(other, seed=SEED + 1)
    names = [str(p.relative_to(folder)) for p in folder.rglob("*")
             if p.is_file() and p.parts[-2] in ("tickets", "sales", "truth") and p.suffix != ".parquet"]
    assert len(names) > 10
    for name in [*names, "fx.csv", "subscribers.csv"]:
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name
    for name in ["fx.csv", "tickets/tickets-2025-01.csv.gz", "sales/sales-2025-10.csv.gz", "truth/tourism.csv"]:
        assert (other / name).read_bytes() != (folder / name).read_bytes(), name


def test_ticket_airports_and_countries_are_real(tickets):
    airports = airportsdata.load("IATA")
    assert set(tickets.origin) == {"CAN", "SZX"}
    assert tickets.destination.map(lambda code: airports[code]["country"]).eq(tickets.destination_country).all()
    assert 22 <= tickets.destination_country.nunique() <= 28 and "CN" not in set(tickets.destination_country)
    assert tickets.ticket_id.is_unique and tickets.ticket_id.str.fullmatch(r"\d{13}").all()
    assert tickets.traveller_id.str.fullmatch(r"TRV\d{9}").all()
    assert tickets.traveller_id.nunique() <= 1.5 * PEOPLE
    assert (tickets.groupby("traveller_id").size() > 1).mean() > 0.3  # customers travel again


def test_ticket_times_span_two_years_to_the_last_day(tickets):
    assert tickets.purchased_at.str.fullmatch(ISO_LOCAL).all() and tickets.departs_at.str.fullmatch(ISO_LOCAL).all()
    bought, departs = _local(tickets.purchased_at), _local(tickets.departs_at)
    assert (departs > bought).all()
    lead = (departs.dt.normalize() - bought.dt.normalize()).dt.days
    assert lead.between(1, 90).all() and 10 <= lead.median() <= 30
    assert departs.dt.date.max() == LAST
    first = departs.dt.date.min()
    assert 728 <= (LAST - first).days <= 735 and first.weekday() == 0
    weeks = set(_iso_week(departs.dt.date))
    year_ago = LAST - datetime.timedelta(weeks=52)
    assert _iso_week(pd.Series([year_ago])).iloc[0] in weeks


def test_cabins_fares_currencies_and_channels(tickets, fx):
    cabins = tickets.cabin.value_counts(normalize=True)
    assert cabins["economy"] == pytest.approx(0.85, abs=0.02) and cabins["first"] == pytest.approx(0.01, abs=0.005)
    assert cabins["premium"] == pytest.approx(0.07, abs=0.015) and cabins["business"] == pytest.approx(0.07, abs=0.015)
    currencies = tickets.currency.value_counts(normalize=True)
    assert set(currencies.index) == {"CNY", "USD", "EUR"} and currencies["CNY"] > 0.75
    assert set(tickets.channel) == {"online", "app", "agency"}
    frame = _in_cny(tickets, fx)
    assert (frame.fare.astype(float) > 0).all()
    economy = frame[frame.cabin == "economy"].groupby("destination").cny.median()
    assert 800 < economy["BKK"] < 2500 and 3500 < economy["LHR"] < 9000 and economy["JFK"] > economy["NRT"]
    by_cabin = frame.groupby("cabin").cny.median()
    assert by_cabin["economy"] < by_cabin["premium"] < by_cabin["business"] < by_cabin["first"]
    assert 2.5 < by_cabin["business"] / by_cabin["economy"] < 5


def _in_cny(tickets: pd.DataFrame, fx: pd.DataFrame) -> pd.DataFrame:
    bought = _local(tickets.purchased_at).dt.strftime("%Y-%m-%d")
    frame = tickets.assign(date=bought).merge(fx, on=["date", "currency"], how="left")
    assert frame.rate_to_base.notna().all()
    return frame.assign(cny=frame.fare.astype(float) * frame.rate_to_base)


def test_fx_covers_every_ticket_date_with_small_drift(fx, tickets):
    assert (fx[fx.currency == "CNY"].rate_to_base == 1.0).all()
    dates = pd.to_datetime(fx.date)
    span = pd.date_range(dates.min(), dates.max(), freq="D")
    assert len(fx) == 3 * len(span) and fx.groupby("date").currency.apply(set).eq({"CNY", "USD", "EUR"}).all()
    assert dates.min().date() <= _local(tickets.purchased_at).dt.date.min()
    assert dates.max().date() == LAST
    for currency, (low, high) in {"USD": (6.5, 7.8), "EUR": (7.0, 8.8)}.items():
        rate = fx[fx.currency == currency].rate_to_base.to_numpy()
        assert ((rate > low) & (rate < high)).all()
        assert np.abs(np.diff(np.log(rate))).max() < 0.025 and np.std(np.diff(np.log(rate))) > 0.0005


def test_outbound_truth_matches_the_tickets(folder, tickets, fx):
    truth = pd.read_csv(folder / "truth" / "outbound_weekly.csv", dtype={"week": str})
    frame = _in_cny(tickets, fx).assign(week=_iso_week(_local(tickets.departs_at).dt.date))
    expected = frame.groupby(["week", "destination_country"]).agg(
        trips=("ticket_id", "size"), travellers=("traveller_id", "nunique"), spend=("cny", "sum")).reset_index()
    merged = truth.merge(expected, on=["week", "destination_country"], how="left").fillna(0)
    assert len(merged) == truth.week.nunique() * truth.destination_country.nunique()
    assert (merged.trips_x == merged.trips_y).all() and (merged.travellers_x == merged.travellers_y).all()
    assert np.allclose(merged.spend_total_cny, merged.spend, atol=0.05)
    assert merged.trips_x.sum() == len(tickets)


def _weekly(folder) -> pd.DataFrame:
    truth = pd.read_csv(folder / "truth" / "outbound_weekly.csv", dtype={"week": str})
    return truth.pivot(index="week", columns="destination_country", values="trips").sort_index()


def test_the_shock_week_shows_the_drop(big):
    shock = json.loads((big / "truth" / "outbound_shock.json").read_text())
    weekly = _weekly(big)
    weeks = list(weekly.index)
    at = weeks.index(shock["week"])
    assert 60 <= at <= len(weeks) - 9  # in the second year, at least 8 weeks before the end
    share = weekly[shock["destination_country"]] / weekly.sum(axis=1)
    before, after = share.iloc[at - 8:at].mean(), share.iloc[at:at + 8].mean()
    assert after / before == pytest.approx(0.2, abs=0.08)
    assert share.iloc[at] < 0.5 * share.iloc[at - 1]
    year_before = weekly[shock["destination_country"]].iloc[at - 52:at - 44].sum()
    assert weekly[shock["destination_country"]].iloc[at:at + 8].sum() < 0.4 * year_before


def test_top_destinations_fill_60_travellers_a_week_with_seasons(big):
    truth = pd.read_csv(big / "truth" / "outbound_weekly.csv", dtype={"week": str})
    shock = json.loads((big / "truth" / "outbound_shock.json").read_text())
    travellers = truth.pivot(index="week", columns="destination_country", values="travellers").iloc[:-1]
    top = travellers.drop(columns=shock["destination_country"]).mean().nlargest(3).index
    assert travellers[top[0]].min() >= 60 and (travellers[top] >= 60).to_numpy().mean() > 0.95
    total = _weekly(big).sum(axis=1).iloc[:-1]
    typical = total.median()
    for week in ("2024-W40", "2025-W40", "2025-W05", "2025-W31"):  # Golden Weeks, Spring Festival, summer
        assert total[week] > 1.25 * typical, week


def test_sales_rows_are_plausible(sales, folder):
    assert sales.order_id.is_unique and sales.customer_id.str.fullmatch(r"CUS\d{9}").all()
    assert sales.ordered_at.str.fullmatch(ISO_LOCAL).all()
    local = _local(sales.ordered_at).dt.date
    assert local.min() >= START and local.max() <= LAST
    assert set(sales.region_id) == {f"D{i:02d}" for i in range(1, 25)}
    assert set(sales.currency) == {"CNY"} and set(sales.channel) == {"online", "offline"}
    assert 4 <= sales.category.nunique() <= 6
    amount = sales.amount.astype(float)
    assert (amount > 0).all()
    medians = sales.assign(amount=amount).groupby("category").amount.median()
    assert medians.max() > 5 * medians.min()
    per_buyer = sales.assign(month=sales.file.str[6:13]).groupby(["month", "customer_id"]).size()
    assert per_buyer.between(1, 6).all()
    assert sales.groupby("customer_id").region_id.nunique().eq(1).all()
    online = sales.groupby("region_id").channel.apply(lambda c: (c == "online").mean())
    assert online.max() - online.min() > 0.2


def test_sales_truth_matches_orders_and_homes(folder, sales, homes, subscribers):
    truth = pd.read_csv(folder / "truth" / "sales_penetration.csv", dtype={"month": str})
    frame = sales.assign(month=sales.file.str[6:13], amount=sales.amount.astype(float))
    expected = frame.groupby(["month", "region_id"]).agg(
        buyers=("customer_id", "nunique"), orders=("order_id", "size"), revenue=("amount", "sum")).reset_index()
    merged = truth.merge(expected, on=["month", "region_id"])
    assert len(merged) == len(truth) == 2 * 24
    assert (merged.buyers_x == merged.buyers_y).all() and (merged.orders_x == merged.orders_y).all()
    assert np.allclose(merged.revenue_x, merged.revenue_y, atol=0.05)
    residents = pd.read_csv(folder / "truth" / "residents.csv", dtype={"month": str})
    merged = truth.merge(residents, left_on=["month", "region_id"], right_on=["month", "area_id"])
    assert len(merged) == len(truth) and (merged.adult_residents == merged.adults).all()
    age = START.year - subscribers.set_index("subscriber_id").birth_year.astype(int)
    adults = homes[homes.subscriber_id.map(age) >= 18]  # adult residents who are subscribers
    counts = adults.groupby(["month", "home_area_id"]).size().rename("subscribing").reset_index()
    merged = truth.merge(counts, left_on=["month", "region_id"], right_on=["month", "home_area_id"], how="left")
    assert (merged.subscribing.fillna(0) <= merged.adult_residents).all()
    assert 0.3 < merged.subscribing.sum() / merged.adult_residents.sum() < 0.5


def test_penetration_differs_and_is_higher_in_central_districts(folder):
    truth = pd.read_csv(folder / "truth" / "sales_penetration.csv", dtype={"month": str})
    census = pd.read_csv(folder / "population.csv")
    first = truth[truth.month == truth.month.min()].merge(census, left_on="region_id", right_on="area_id")
    penetration = first.buyers / first.adult_residents
    assert penetration.min() < 0.08 and penetration.max() > 0.18 and penetration.max() > 3 * penetration.min()
    assert penetration.rank().corr(first.population.rank()) > 0.5  # Spearman: Pearson on ranks


def test_domestic_visitors_have_events_only_within_their_visit(subscribers, homes, events, scenic, region):
    visitors = subscribers[~subscribers.subscriber_id.isin(homes.subscriber_id)]
    assert len(visitors) == region[1]["visiting_subscribers"] > 20
    assert (visitors.origin_region != "440000").all()
    assert (pd.to_datetime(visitors.registered_on).dt.date < START).all()
    seen = events[events.subscriber_id.isin(visitors.subscriber_id)]
    assert set(seen.mcc) == {"460"} and seen.subscriber_id.nunique() > 0.8 * len(visitors)
    span = seen.groupby("subscriber_id").date.agg(lambda d: (max(d) - min(d)).days + 1)
    assert span.between(1, 4).all() and (span >= 2).mean() > 0.5
    nights = seen[(seen.hour >= 22) | (seen.hour < 6)]
    assert nights.district.isin(scenic).mean() > 0.7


def test_roamers_stay_overnight_in_scenic_districts_more_than_elsewhere(events, scenic, folder):
    roaming = events[events.mcc != "460"]
    nights = roaming[(roaming.hour >= 22) | (roaming.hour < 6)]
    in_scenic = nights.district.isin(scenic).mean()
    assert in_scenic / len(scenic) > 3 * (1 - in_scenic) / (24 - len(scenic))
    truth = pd.read_csv(folder / "truth" / "tourism.csv")
    international = truth[truth.visitor_type == "international"]
    in_scenic = international.area_id.isin(scenic)
    per_scenic_district = international[in_scenic].nights.sum() / len(scenic)
    per_other_district = international[~in_scenic].nights.sum() / (24 - len(scenic))
    assert per_scenic_district > 3 * per_other_district and per_scenic_district > 0
    assert (international.nights <= international.visitors).all()


def test_tourism_truth_is_complete_and_scenic_weekends_are_busy(folder, scenic):
    truth = pd.read_csv(folder / "truth" / "tourism.csv", dtype={"date": str})
    assert len(truth) == DAYS * 24 * 3
    assert set(truth.visitor_type) == {"domestic_overnight", "domestic_sameday", "international"}
    assert (truth.visitors >= 0).all()
    overnight = truth[truth.visitor_type == "domestic_overnight"]
    assert (overnight.nights == overnight.visitors).all()
    assert (truth[truth.visitor_type == "domestic_sameday"].nights == 0).all()
    day_of_week = pd.to_datetime(truth.date).dt.day_of_week
    busy = truth[(day_of_week >= 5) & truth.area_id.isin(scenic) & truth.visitor_type.str.startswith("domestic")]
    per_day = busy.groupby(["date", "area_id"]).visitors.sum()
    assert len(per_day) == 4 * len(scenic) and (per_day > 0).all()  # four weekend days
    assert (busy[busy.visitor_type == "domestic_sameday"].visitors > 0).all()
    saturday = overnight[pd.to_datetime(overnight.date).dt.day_of_week == 5]
    assert (saturday[saturday.area_id.isin(scenic)].visitors > 0).all()
    scenic_mean = saturday[saturday.area_id.isin(scenic)].visitors.mean()
    assert scenic_mean > 1.5 * saturday[~saturday.area_id.isin(scenic)].visitors.mean()
    monday = overnight[(overnight.date == "2025-09-29") & overnight.area_id.isin(scenic)]  # before a working day
    assert saturday[saturday.area_id.isin(scenic)].visitors.sum() > 2 * monday.visitors.sum()


def test_residents_sleep_in_scenic_districts_away_from_home_on_weekend_nights(events, homes, scenic):
    """Independently of the truth: nights spent mostly in a scenic district that is neither home nor work."""
    residents = homes[homes.month == "2025-09"].set_index("subscriber_id")
    night = events[events.subscriber_id.isin(residents.index) & ((events.hour >= 22) | (events.hour < 6))]
    starts = (pd.to_datetime(night.date) - pd.to_timedelta((night.hour < 6).astype(int), unit="D")).dt.date
    counts = night.assign(night=starts).groupby(["subscriber_id", "night", "district"]).size().rename("n")
    place = counts.reset_index().sort_values(["n", "district"], ascending=[False, True])
    place = place.drop_duplicates(["subscriber_id", "night"]).join(residents, on="subscriber_id")
    away = place[(place.n >= 2) & place.district.isin(scenic) & (place.district != place.home_area_id)
                 & (place.district != place.work_area_id)]
    per_night = away.groupby("night").size()
    before_rest = per_night.reindex([datetime.date(2025, 9, d) for d in (26, 27, 30)]
                                    + [datetime.date(2025, 10, d) for d in (1, 2, 3, 4)], fill_value=0)
    before_work = per_night.reindex([datetime.date(2025, 9, d) for d in (25, 28, 29)], fill_value=0)
    assert before_rest.mean() > 2.5 * before_work.mean() and before_rest.min() >= 5  # 40 % subscribers, quiet nights


def _profiles(kind, home, work) -> Profiles:
    count = len(kind)
    zeros = np.zeros(count, dtype=np.float32)
    return Profiles(
        ids=pa.array([f"p{i}" for i in range(count)]), on_network=np.ones(count, bool),
        place_key=np.arange(count, dtype=np.uint32), kind=np.array(kind, dtype=np.int8),
        mcc=pa.array(["460"] * count), home=np.array(home, dtype=np.int16), new_home=np.array(home, dtype=np.int16),
        move_day=np.full(count, 9, dtype=np.int16), work=np.array(work, dtype=np.int16),
        leave_hour=zeros, work_hours=zeros, works_saturday=np.zeros(count, bool), sightseer=np.zeros(count, bool),
        arrive_slot=np.zeros(count, dtype=np.int32), depart_slot=np.full(count, 24, dtype=np.int32), rate=zeros,
    )


def test_tourism_tally_on_hand_made_whereabouts():
    """Independent expectations for five people on one day, written out by hand."""
    period = build_period(datetime.date(2026, 1, 10), 1, ZONE)
    where = np.zeros((24, 5), dtype=np.int16)
    where[10:14, 0] = 2  # resident: 4 hours in district 2, sleeps at home -> same-day visitor of 2
    where[9:11, 1], where[20:, 1] = 2, 3  # resident: 2 hours in 2 (too short), sleeps in 3 -> overnight in 3
    where[:, 2], where[12:16, 2] = 3, 1  # visitor from elsewhere: sleeps in 3, 4 hours in 1
    where[:12, 3], where[12:, 3] = 2, 3  # roamer: seen in 2 and 3, sleeps in 3
    where[:, 4] = 1  # resident staying at work all day and night: usual environment
    people = _profiles([RESIDENT, RESIDENT, DOMESTIC_VISITOR, ROAMER, RESIDENT], [0, 0, 3, 3, 0], [1, 1, -1, -1, 1])
    tally = TourismTally(period, 4)
    tally.add(period.days[0], where, people)
    table = tally.table(SimpleNamespace(district_ids=["A", "B", "C", "D"])).to_pandas()
    got = table[table.visitors > 0].set_index(["area_id", "visitor_type"])[["visitors", "nights"]]
    expected = {("B", "domestic_sameday"): (1, 0), ("C", "domestic_sameday"): (1, 0),
                ("D", "domestic_overnight"): (2, 2), ("C", "international"): (1, 0), ("D", "international"): (1, 1)}
    assert {key: tuple(row) for key, row in got.iterrows()} == expected
