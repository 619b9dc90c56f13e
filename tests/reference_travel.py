"""Independent pandas computations of tourism, outbound-travel and sales-penetration (SPEC §3)."""

from __future__ import annotations

import datetime
import math

import numpy as np
import pandas as pd

import reference as ref
from scenario import LEVELS, TIMEZONE

PREMIUM = {"premium", "business", "first"}


def local(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True).dt.tz_convert(TIMEZONE).dt.tz_localize(None)


def iso_week(day) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def three_digits(x: float) -> float:
    """Three significant digits: the mantissa rounded to two decimals, as the SQL does."""
    if x <= 0:
        return x
    magnitude = 10 ** math.floor(math.log10(x))
    return math.floor(x / magnitude * 100 + 0.5) / 100 * magnitude


def dominated(largest: pd.Series, total: pd.Series, dominance: float = 0.5) -> pd.Series:
    return largest > dominance * total


def outbound(tickets: pd.DataFrame, fx: pd.DataFrame | None, k: int) -> pd.DataFrame:
    t = tickets.assign(departs=local(tickets["departs_at"]))
    t["week"] = t["departs"].dt.date.map(iso_week)
    rate = 1.0
    if fx is not None:
        rates = fx.set_index(["date", "currency"])["rate_to_base"]
        bought = local(tickets["purchased_at"]).dt.strftime("%Y-%m-%d")  # fares convert on the purchase date
        keys = list(zip(bought, t["currency"], strict=True))
        rate = pd.Series([rates.get(key, 1.0) for key in keys], index=t.index)
    t["spend"] = t["fare"] * rate
    t["premium"] = t["cabin"].isin(PREMIUM).astype(int)
    per = t.groupby(["week", "destination_country", "traveller_id"]).agg(
        trips=("ticket_id", "size"), spend=("spend", "sum"), premium=("premium", "sum")).reset_index()
    cells = per.groupby(["week", "destination_country"]).agg(
        travellers=("traveller_id", "size"), trips=("trips", "sum"), trips_max=("trips", "max"),
        spend_total=("spend", "sum"), spend_max=("spend", "max"), spend_median=("spend", "median"),
        premium=("premium", "sum"), premium_max=("premium", "max")).reset_index()
    cells = cells[cells["travellers"] >= k].copy()
    cells["trips"] = cells["trips"].where(~dominated(cells["trips_max"], cells["trips"]))
    cells["spend_total"] = cells["spend_total"].where(~dominated(cells["spend_max"], cells["spend_total"]))
    premium = cells["premium"].where(~dominated(cells["premium_max"], cells["premium"]))
    cells["premium_share"] = premium / cells["trips"]
    cells["spend_median"] = cells["spend_median"].map(three_digits)
    trips = cells.set_index(["week", "destination_country"])["trips"]
    cells["change_vs_prev_year"] = [
        _ratio(row.trips, trips.get((f"{int(row.week[:4]) - 1}{row.week[4:]}", row.destination_country)))
        for row in cells.itertuples()]
    cells["change_vs_prev_4w"] = [_prev4(row, trips) for row in cells.itertuples()]
    return cells[["week", "destination_country", "trips", "travellers", "spend_total", "spend_median",
                  "premium_share", "change_vs_prev_year", "change_vs_prev_4w"]]


def _monday(week: str) -> datetime.date:
    return datetime.date.fromisocalendar(int(week[:4]), int(week[6:]), 1)


def _ratio(now, before):
    if before is None or pd.isna(before) or pd.isna(now):
        return np.nan
    return now / before - 1


def _prev4(row, trips: pd.Series) -> float:
    previous = [trips.get((iso_week(_monday(row.week) - datetime.timedelta(weeks=i)), row.destination_country))
                for i in range(1, 5)]
    previous = [p for p in previous if p is not None and not pd.isna(p)]
    if len(previous) < 4 or pd.isna(row.trips):
        return np.nan
    return row.trips / np.mean(previous) - 1


def age_band(birth_year: int, year: int) -> str:
    age = year - birth_year
    if age < 15:
        return "<15"
    if age >= 80:
        return "80+"
    return f"{age // 5 * 5}-{age // 5 * 5 + 4}"


def sales_penetration(sales, ev, subs, population, first, last, k: int, minimum: int = 3) -> pd.DataFrame:
    s = sales.assign(ordered=local(sales["ordered_at"]))
    s["month"] = s["ordered"].dt.strftime("%Y-%m")
    per = s.groupby(["month", "region_id", "customer_id"]).agg(
        orders=("order_id", "size"), revenue=("amount", "sum"),
        online=("channel", lambda c: int((c == "online").sum()))).reset_index()
    cells = per.groupby(["month", "region_id"]).agg(
        buyers=("customer_id", "size"), orders=("orders", "sum"), orders_max=("orders", "max"),
        revenue=("revenue", "sum"), revenue_max=("revenue", "max"),
        online=("online", "sum"), online_max=("online", "max")).reset_index()
    cells = cells[cells["buyers"] >= k].copy()
    cells["orders"] = cells["orders"].where(~dominated(cells["orders_max"], cells["orders"]))
    cells["revenue"] = cells["revenue"].where(~dominated(cells["revenue_max"], cells["revenue"]))
    online = cells["online"].where(~dominated(cells["online_max"], cells["online"]))
    cells["online_share"] = online / cells["orders"]
    potential = _potential(ev, subs, population, first, last, k, minimum)
    cells = cells.merge(potential, how="left", left_on=["month", "region_id"], right_on=["period", "area"])
    cells["penetration"] = cells["buyers"] / cells["potential"]
    cells["opportunity"] = cells["potential"] - cells["buyers"]
    return cells[["month", "region_id", "orders", "buyers", "revenue", "online_share", "potential",
                  "penetration", "opportunity"]]


def _potential(ev, subs, population, first, last, k, minimum) -> pd.DataFrame:
    homes = ref.homes(ev, first, last, minimum)
    year = datetime.date.today().year
    bands = dict(zip(subs["subscriber_id"], [age_band(b, year) for b in subs["birth_year"]], strict=True))
    homes["band"] = homes["person"].map(bands).fillna("unknown")
    homes["cls"] = np.where(homes["band"].isin(["<15", "unknown"]), "other",
                            np.where(homes["band"] == "15-19", "teen", "adult"))
    counts = homes.groupby(["period", "area", "cls"]).size().rename("n").reset_index()
    counts = counts[counts["n"] >= k]
    wide = counts.pivot_table(index=["period", "area"], columns="cls", values="n", fill_value=0, aggfunc="sum")
    wide = wide.reindex(columns=["adult", "teen", "other"], fill_value=0).reset_index()
    wide["detected"] = wide[["adult", "teen", "other"]].sum(axis=1)
    pop = population.set_index("area_id")["population"] if population is not None else pd.Series(dtype=float)
    scale = wide["area"].map(pop) / wide["detected"]
    wide["potential"] = ((wide["adult"] + 0.4 * wide["teen"]) * scale.fillna(1.0)).round()
    return wide[["period", "area", "potential"]]


NIGHT = (22 * 3600, 30 * 3600)  # a night: 22:00 on its date to 06:00 the next day, in seconds from its midnight


def stay_night_places(stays: pd.DataFrame, first, last) -> pd.DataFrame:
    """person, night, area: per night from ``first - 1`` to ``last``, the area whose stays cover most of it (ties to
    the smaller area); nights no stay reaches are left out."""
    rows = []
    for day in pd.date_range(first - datetime.timedelta(days=1), last).date:
        midnight = int((pd.Timestamp(day) - pd.Timestamp(0)).total_seconds())
        begin, end = midnight + NIGHT[0], midnight + NIGHT[1]
        overlap = (stays["end"].clip(upper=end) - stays["start"].clip(lower=begin)).clip(lower=0)
        covered = stays.assign(covered=overlap)[overlap > 0].groupby(["person", "area"])["covered"].sum()
        for person, areas in covered.reset_index().groupby("person"):
            best = areas.sort_values(["covered", "area"], ascending=[False, True]).iloc[0]
            rows.append((person, day, best["area"]))
    return pd.DataFrame(rows, columns=["person", "night", "area"])


def tourism(ev, mccs: dict, first, last, k: int, origin_level: str = "city", min_bins: int = 3,
            max_days: int = 7, minimum: int = 3, method: str = "stays") -> pd.DataFrame:
    """Visitors and nights per date, area, visitor type, origin (k-filtered, dominance on nights)."""
    homes, works = ref.homes(ev, first, last, minimum), ref.works(ev, first, last, minimum)
    if method == "stays":
        nights = stay_night_places(ref.stays(ev), first, last)
        bins = ref.stay_presence(ev)
    else:
        nights, _ = ref.night_locations(ev)
        bins = ref.bin_locations(ev)
    usual = [homes, works]
    if method == "stays":
        slept = nights[(nights["night"] >= first) & (nights["night"] <= last)]
        slept = slept.assign(period=pd.to_datetime(slept["night"]).dt.strftime("%Y-%m"))
        often = slept.groupby(["person", "period", "area"]).size()
        usual.append(often[often >= minimum].reset_index()[["person", "period", "area"]])
    usual = pd.concat(usual)
    ue = set(zip(usual["person"], usual["period"], usual["area"], strict=True))
    has_ue = set(zip(usual["person"], usual["period"], strict=True))
    days_seen = ev.assign(day=ev["local"].dt.date, period=ev["local"].dt.strftime("%Y-%m"))
    days_seen = days_seen[(days_seen["day"] >= first) & (days_seen["day"] <= last)]
    seen = days_seen.groupby(["person", "period"])["day"].nunique()
    foreign = {p for p, m in mccs.items() if m != "460"}
    home_of = {(p, per): a for p, per, a in zip(homes["person"], homes["period"], homes["area"], strict=True)}
    night_at = {(p, d): a for p, d, a in zip(nights["person"], nights["night"], nights["area"], strict=True)}
    rows = []

    def eligible(person, day):
        period = day.strftime("%Y-%m")
        return (person, period) in has_ue or seen.get((person, period), 99) <= max_days

    def origin(person, day):
        home = home_of.get((person, day.strftime("%Y-%m")))
        return LEVELS[origin_level][home] if home else "unknown"

    for (person, day), area in night_at.items():
        if first <= day <= last and person not in foreign and eligible(person, day) \
                and (person, day.strftime("%Y-%m"), area) not in ue:
            rows.append((person, day, area, "domestic_overnight", origin(person, day), 1))
    spent = bins.assign(day=lambda d: d["bin"].dt.date)
    spent = spent[(spent["day"] >= first) & (spent["day"] <= last)]
    for (person, day, area), count in spent.groupby(["person", "day", "area"]).size().items():
        if person in foreign:
            rows.append((person, day, area, "international", "KR", int(night_at.get((person, day)) == area)))
        elif count >= min_bins and night_at.get((person, day)) != area and eligible(person, day) \
                and (person, day.strftime("%Y-%m"), area) not in ue:
            rows.append((person, day, area, "domestic_sameday", origin(person, day), 0))
    visits = pd.DataFrame(rows, columns=["person", "date", "area_id", "visitor_type", "origin", "nights"])
    cells = visits.groupby(["date", "area_id", "visitor_type", "origin"]).agg(
        visitors=("person", "nunique"), nights=("nights", "sum"), largest=("nights", "max")).reset_index()
    cells = cells[cells["visitors"] >= k].copy()
    cells["nights"] = cells["nights"].where(~dominated(cells["largest"], cells["nights"]))
    return cells.drop(columns="largest")
