"""Estimates of everyone from weighted subscribers, against an independent pandas computation."""

from __future__ import annotations

import datetime

import duckdb
import numpy as np
import pandas as pd
import pytest

from popflow.indicators import estimates, trip_detection

import reference as ref
import scenario

K = 2
FIRST, LAST = datetime.date(2026, 1, 20), datetime.date(2026, 2, 27)
MONTHS = (datetime.date(2026, 1, 1), datetime.date(2026, 2, 28))
CENSUS = {"A": 2400, "B": 1900, "C": 1300}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    events = pd.concat([scenario.random_events(n_people=50, days=40, per_day=10, seed=7), day_only_events()])
    population = pd.DataFrame({"area_id": list(CENSUS), "population": list(CENSUS.values())})
    ws = scenario.workspace(tmp_path_factory.mktemp("estimates"), events, scenario.subscribers(50), k=K,
                            population=population)
    return ws, ref.local_events(events)


def day_only_events() -> pd.DataFrame:
    """Five light users seen every day of the period, never at night, so no home is detected for them."""
    times = pd.date_range("2026-01-20T03:00:00Z", periods=39, freq="D")
    return pd.DataFrame([{"subscriber_id": scenario.phone(50 + p), "timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "cell_id": list(scenario.CELL_AREA)[0]} for p in range(5) for t in times])


def thousandths(x):
    """Weights are whole thousandths."""
    return np.floor(1000 * x + 0.5) / 1000


def rounded(n):
    return 10 * np.floor((n + 5) / 10)


def weights(ev: pd.DataFrame) -> tuple[dict[str, float], float]:
    """Each person's weight and the default weight, from the definition in words."""
    homes = ref.homes(ev, *MONTHS).sort_values("period").drop_duplicates("person", keep="last")
    counts = homes.groupby("area")["person"].size()
    subscribers = {a: rounded(n) for a, n in counts.items() if n >= K}
    unit = {a: thousandths(CENSUS[a] / n) for a, n in subscribers.items() if n > 0}
    default = thousandths(sum(CENSUS[a] for a in unit) / sum(subscribers[a] for a in unit))
    own = {p: unit[a] for p, a in zip(homes["person"], homes["area"], strict=True) if a in unit}
    seen = ev[(ev["local"].dt.date >= MONTHS[0]) & (ev["local"].dt.date <= MONTHS[1])]
    seen = seen.assign(month=seen["local"].dt.strftime("%Y-%m"), day=seen["local"].dt.date)
    latest = seen[seen["month"] == seen.groupby("person")["month"].transform("max")]
    days = latest.groupby("person")["day"].nunique()
    housed = set(homes["person"])
    homeless_residents = {p: 0.0 for p, n in days.items() if n > estimates.VISITOR_DAYS and p not in housed}
    return {**homeless_residents, **own}, default


def home_units(ev: pd.DataFrame) -> dict[str, str]:
    """Each resident's calibration unit (their latest home area, when it has a census row and k residents)."""
    homes = ref.homes(ev, *MONTHS).sort_values("period").drop_duplicates("person", keep="last")
    counts = homes.groupby("area")["person"].size()
    return {p: a for p, a in zip(homes["person"], homes["area"], strict=True) if counts[a] >= K}


def interval(out: pd.DataFrame, variance: pd.Series, model_error: float = 0.0) -> pd.DataFrame:
    """The estimate (the sum of weights, never below the count) and its 90 % interval: sampling variance plus
    the placement error and any model error, never below the count."""
    estimate = np.maximum(out["people"], out["estimate"])
    margin = 1.645 * np.sqrt(variance + (estimates.PLACEMENT_ERROR ** 2 + model_error ** 2) * estimate ** 2)
    return out.assign(estimate=estimate, estimate_low=np.maximum(out["people"], estimate - margin),
                      estimate_high=estimate + margin)


def expected_cells(cells: pd.DataFrame, keys: list[str], person_weight: dict, default: float) -> pd.DataFrame:
    """Count, estimate and 90 % interval per cell of a person-level table."""
    w = cells["person"].map(person_weight).fillna(default)
    cells = cells.assign(w=w, v=w * (w - 1))
    out = cells.groupby(keys).agg(people=("person", "nunique"), estimate=("w", "sum"), var=("v", "sum")).reset_index()
    return interval(out, out["var"]).drop(columns="var")


def test_workers_estimates_are_sums_of_weights(data):
    ws, ev = data
    person_weight, default = weights(ev)
    works, homes = ref.works(ev, FIRST, LAST), ref.homes(ev, FIRST, LAST)
    cells = works.merge(homes, on=["person", "period"], suffixes=("_work", "_home")).rename(
        columns={"area_work": "work_area_id", "area_home": "home_area_id"})
    keys = ["period", "work_area_id", "home_area_id"]
    want = expected_cells(cells, keys, person_weight, default)
    want = want[want["people"] >= K].sort_values(keys).reset_index(drop=True)
    got = ws.run("workers", date_from=FIRST, date_to=LAST).to_pandas().sort_values(keys).reset_index(drop=True)
    assert list(got.columns) == [*keys, "people", "estimate", "estimate_low", "estimate_high"]
    pd.testing.assert_frame_equal(got[keys + ["people"]], want[keys + ["people"]], check_dtype=False)
    for column in ("estimate", "estimate_low", "estimate_high"):
        assert np.allclose(got[column], want[column], atol=0.051), column


def test_presence_weights_are_recalibrated_in_each_bin(data):
    """A resident's weight is scaled so that the unit's residents counted in the bin weigh its census (the
    static weight when fewer than k are counted): the people counted stand for those whose phones were silent."""
    ws, ev = data
    person_weight, default = weights(ev)
    units = home_units(ev)
    first = last = datetime.date(2026, 2, 10)
    present = ref.presence(ev)
    present = present[present["bin"].dt.date == first].rename(columns={"area": "area_id"})
    static = present["person"].map(person_weight).fillna(default)
    present = present.assign(unit=present["person"].map(units), static=static)
    counted = present.groupby(["bin", "unit"])["person"].transform("nunique")
    unit_weights = present.groupby(["bin", "unit"])["static"].transform("sum")
    recalibrated = [thousandths(w * CENSUS[u] / total) if isinstance(u, str) and n >= K else w
                    for u, n, w, total in zip(present["unit"], counted, static, unit_weights, strict=True)]
    present = present.assign(w=recalibrated, static=static)
    present = present.assign(v=present["w"] * (present["w"] - 1))
    want = present.groupby(["bin", "area_id"]).agg(people=("person", "nunique"), estimate=("w", "sum"),
                                                   var=("v", "sum"), static=("static", "sum")).reset_index()
    want = interval(want, want["var"]).drop(columns="var")
    want = want[want["people"] >= K].sort_values(["bin", "area_id"]).reset_index(drop=True)
    got = ws.run("present-population", method="observed", date_from=first, date_to=last).to_pandas()
    got = got.sort_values(["time", "area_id"]).reset_index(drop=True)
    assert list(got["people"]) == list(want["people"])
    assert (abs(want["estimate"] - want["static"]) > 1).any()  # the recalibration changes estimates
    for column in ("estimate", "estimate_low", "estimate_high"):
        assert np.allclose(got[column], want[column], atol=0.051), column


def test_a_short_window_is_weighted_like_its_month(data):
    ws, ev = data
    _, default = weights(ev)
    day = datetime.date(2026, 2, 10)
    release = ws.run("workers", date_from=day, date_to=day, privacy="dp", epsilon=0.5)
    assert release.manifest["noise"]["workers"]["estimate_weight"] == pytest.approx(default, abs=1e-4)


def test_estimates_lie_in_their_interval_and_above_the_count(data):
    ws, _ = data
    got = ws.run("migration").to_pandas()
    assert (got["estimate_low"] >= got["people"]).all()
    assert ((got["estimate_low"] <= got["estimate"]) & (got["estimate"] <= got["estimate_high"])).all()


def test_dp_estimates_scale_the_noisy_count_by_the_mean_weight(data):
    ws, ev = data
    _, default = weights(ev)
    release = ws.run("workers", privacy="dp", epsilon=1.0)
    got = release.to_pandas()
    assert np.allclose(got["estimate"], np.floor(got["people"].clip(lower=0) * default * 10 + 0.5) / 10)
    assert (got["estimate_high"] > got["estimate"]).all()
    assert release.manifest["noise"]["workers"]["estimate_weight"] == pytest.approx(default, abs=1e-4)


def test_units_whose_residents_round_to_none_get_no_weight_of_their_own(tmp_path):
    """With k = 2, a unit of 2 to 4 detected residents rounds to 0 subscribers: it takes the default weight
    rather than dividing its census by zero."""
    events = scenario.random_events(n_people=20, days=40, per_day=10, seed=2)
    population = pd.DataFrame({"area_id": list(CENSUS), "population": list(CENSUS.values())})
    ws = scenario.workspace(tmp_path, events, scenario.subscribers(20), k=K, population=population)
    homes = ref.homes(ref.local_events(events), *MONTHS).sort_values("period").drop_duplicates("person", keep="last")
    counts = homes.groupby("area").size()
    assert (rounded(counts) == 0).any()  # the case this test is about
    assert "estimate" in ws.run("workers").table.column_names


def test_no_census_no_estimates(tmp_path):
    events = scenario.random_events(n_people=30, days=10, per_day=10, seed=2)
    ws = scenario.workspace(tmp_path, events, scenario.subscribers(30), k=K)
    assert "estimate" not in ws.run("workers").table.column_names


def age_band(birth_year: int, year: int) -> str:
    age = year - birth_year
    return "<15" if age < 15 else "80+" if age >= 80 else f"{age // 5 * 5}-{age // 5 * 5 + 4}"


@pytest.fixture(scope="module")
def classed(tmp_path_factory):
    """A workspace whose census is in long form only (gender × age band per area)."""
    events = pd.concat([scenario.random_events(n_people=50, days=40, per_day=10, seed=7), day_only_events()])
    subs = scenario.subscribers(50)
    year = datetime.date.today().year
    bands = sorted({age_band(y, year) for y in subs["birth_year"]})
    rng = np.random.default_rng(3)
    census = pd.DataFrame([(a, g, b, int(rng.integers(20, 200))) for a in CENSUS for g in ("F", "M") for b in bands],
                          columns=["area_id", "gender", "age_band", "population"])
    ws = scenario.workspace(tmp_path_factory.mktemp("classed"), events, subs, k=K, population=census)
    classes = dict(zip(subs["subscriber_id"], zip(subs["gender"], (age_band(y, year) for y in subs["birth_year"]),
                                                  strict=True), strict=True))
    return ws, ref.local_events(events), census, classes


def raked_weights(ev: pd.DataFrame, census: pd.DataFrame, classes: dict) -> dict[str, float]:
    """Residents' weights raked to the unit totals and the census's gender × age band shares, from the words."""
    homes = ref.homes(ev, *MONTHS).sort_values("period").drop_duplicates("person", keep="last")
    totals = census.groupby("area_id")["population"].sum()
    counts = homes.groupby("area")["person"].size()
    unit_weight = {a: thousandths(totals[a] / rounded(n)) for a, n in counts.items() if n >= K}
    r = homes[homes["area"].isin(list(unit_weight))].rename(columns={"area": "unit"})
    r = r.assign(w=r["unit"].map(unit_weight), cls=r["person"].map(classes))
    r = r.assign(unit_w=r["w"] * r.groupby("unit")["person"].transform("size"))
    class_census = census[census["area_id"].isin(list(unit_weight))].groupby(["gender", "age_band"])["population"].sum()
    r = r.assign(census=[class_census.get(c) for c in r["cls"]])
    for _ in range(estimates.RAKING_ROUNDS):
        size = r.groupby("cls")["person"].transform("size")
        fitted = r["census"].notna() & (size >= K)
        class_w = r.groupby("cls")["w"].transform("sum")
        fitted_census = sum(class_census[c] for c in set(r.loc[fitted, "cls"]))
        factor = r["census"] / class_w * r.loc[fitted, "w"].sum() / fitted_census
        r = r.assign(w=np.where(fitted, r["w"] * factor, r["w"]))
        r = r.assign(w=r["w"] * r["unit_w"] / r.groupby("unit")["w"].transform("sum"))
    return dict(zip(r["person"], thousandths(r["w"]), strict=True))


def test_weights_are_raked_to_the_census_classes(classed):
    """With a long-form census, weights keep each unit's total and follow the classes' census shares."""
    ws, ev, census, classes = classed
    person_weight = raked_weights(ev, census, classes)
    assert len(set(person_weight.values())) > len(CENSUS)  # raking spreads weights within units
    works, homes = ref.works(ev, FIRST, LAST), ref.homes(ev, FIRST, LAST)
    cells = works.merge(homes, on=["person", "period"], suffixes=("_work", "_home")).rename(
        columns={"area_work": "work_area_id", "area_home": "home_area_id"})
    keys = ["period", "work_area_id", "home_area_id"]
    default = ws.run("workers", privacy="dp", epsilon=1.0).manifest["noise"]["workers"]["estimate_weight"]
    want = expected_cells(cells, keys, person_weight, default)
    want = want[want["people"] >= K].sort_values(keys).reset_index(drop=True)
    got = ws.run("workers", date_from=FIRST, date_to=LAST).to_pandas().sort_values(keys).reset_index(drop=True)
    assert np.allclose(got["estimate"], want["estimate"], atol=0.051)


def test_residents_without_a_home_count_in_people_but_weigh_nothing(data):
    """The census counts them, so the detected residents already stand for them; a weight of their own would
    count them twice."""
    ws, ev = data
    person_weight, _ = weights(ev)
    day_only = [scenario.phone(50 + p) for p in range(5)]
    assert [person_weight.get(p) for p in day_only] == [0.0] * 5
    noon = datetime.date(2026, 2, 10)
    got = ws.run("present-population", method="observed", date_from=noon, date_to=noon).to_pandas()
    cell = got[got["time"].dt.tz_convert("UTC") == pd.Timestamp("2026-02-10T03:00:00Z")]
    assert (cell.loc[cell["area_id"] == "A", "people"] >= 5).all()


def test_an_estimate_is_never_below_its_count():
    """Where the people counted weigh less than their number (residents without a home weigh nothing), the
    estimate is the count, and the interval starts there."""
    cells = "(SELECT 20 AS people, 5000 AS estimate, 0 AS estimate__variance)"
    query = f"SELECT 1 AS x{estimates.published_estimates('people', (), {})} FROM {cells}"
    row = duckdb.connect().execute(query).fetchone()
    assert row[1:] == (20.0, 20.0, pytest.approx(20 + 1.645 * estimates.PLACEMENT_ERROR * 20, abs=0.05))


def trip_factors(ev: pd.DataFrame, trips: pd.DataFrame, first: datetime.date, last: datetime.date) -> pd.Series:
    """Each person's trip detection factor, from the definition in words (``trip_detection``)."""
    seen = ev[(ev["local"].dt.date >= first) & (ev["local"].dt.date <= last)]
    seen = seen.assign(day=seen["local"].dt.date, hour=seen["local"].dt.floor("h"))
    waking = seen[(seen["local"].dt.hour >= 6) & (seen["local"].dt.hour < 22)]
    people = pd.DataFrame({"hours": waking.groupby("person")["hour"].nunique(),
                           "days": seen.groupby("person")["day"].agg(lambda d: (d.max() - d.min()).days + 1),
                           "trips": trips.groupby("person").size()}).fillna({"hours": 0, "trips": 0})
    people = people.dropna(subset=["days"]).assign(activity=lambda p: p["hours"] // p["days"])
    pooled = people["trips"].sum() / people["days"].sum()
    classes = people.groupby("activity")[["trips", "days"]].sum()
    prior = trip_detection.PRIOR_DAYS
    rate = (classes["trips"] + prior * pooled) / (classes["days"] + prior)
    detection = (rate / rate.max()).clip(lower=trip_detection.DETECTION_FLOOR)
    return 1 / people["activity"].map(detection)


def test_od_flows_estimates_count_each_trip_found_by_its_detection_factor(data):
    """trips_estimate = Σ weight × detection factor × trips, the estimate of travellers Σ weight × factor, each
    weight × factor rounded to thousandths; with an interval of Σ w(w − 1) over those products and the model's
    error (``DETECTION_ERROR``) beside the placement error."""
    ws, ev = data
    person_weight, default = weights(ev)
    trips = ref.trips_from_stays(ev)
    trips = trips[(trips["date"] >= FIRST) & (trips["date"] <= LAST)]
    factor = trip_factors(ev, trips, FIRST, LAST)
    assert factor.max() > 1.2  # sparse classes' trips count more than once
    keys = ["date", "origin", "destination"]
    rows = (trips.rename(columns={"previous": "origin", "area": "destination"})
            .groupby(["person", *keys]).size().rename("trips").reset_index())
    w = thousandths(rows["person"].map(person_weight).fillna(default) * rows["person"].map(factor).fillna(1.0))
    rows = rows.assign(w=w, v=w * (w - 1), wt=w * rows["trips"])
    want = rows.groupby(keys).agg(travellers=("person", "nunique"), trips=("trips", "sum"), estimate=("w", "sum"),
                                  var=("v", "sum"), trips_estimate=("wt", "sum")).reset_index()
    want = want[want["travellers"] >= K].rename(columns={"travellers": "people"})
    want = interval(want, want["var"], trip_detection.DETECTION_ERROR).sort_values(keys).reset_index(drop=True)
    got = ws.run("od-flows", date_from=FIRST, date_to=LAST).to_pandas()
    got = got.assign(date=pd.to_datetime(got["date"]).dt.date).sort_values(keys).reset_index(drop=True)
    assert list(got["travellers"]) == list(want["people"])
    for column in ("estimate", "estimate_low", "estimate_high"):
        assert np.allclose(got[column], want[column], atol=0.051), column
    shown = got["trips_estimate"].notna()
    assert shown.sum() > 0
    assert np.allclose(got.loc[shown, "trips_estimate"],
                       np.maximum(want.loc[shown, "trips"], want.loc[shown, "trips_estimate"]), atol=0.051)
