"""Retail sales of a retailer's customers, and the truth about its market penetration.

The retailer's customers (`CUS` + 9 digits, their own identifier space) live in
the districts. Each district has a penetration - the share of its adult residents
who buy in a month - between 3 % and 25 %, higher in denser (central) districts,
and an online share of orders between about 20 % and 75 %, also higher in the
centres. A district has round(census adults x penetration / 0.7) customers; each
calendar month 70 % of them buy, so buyers are about adults x penetration, and a
buyer places 1-6 orders (most often one or two) on days of that month inside the
events period (a month only partly inside the period packs them into its covered
days). Orders fall in one of six categories with lognormal amounts in CNY
(groceries median 85, apparel 260, beauty 180, home 350, electronics 1 200,
sports 300); online orders follow the daily rhythm of phone use, shop orders the
opening hours 09:00-22:00.

`sales/sales-YYYY-MM.csv.gz` holds one month's orders in time order.
`truth/sales_penetration.csv` has one row per month and district, zeros
included: `month, region_id, buyers, orders, revenue, adult_residents`, where
adult_residents counts the residents aged 18 or more whose true home of the
month is the district (as `adults` in `truth/residents.csv`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from popflow.ingest.sales import SOURCE as SALES
from popflow.synth.census import is_adult
from popflow.synth.clock import Period, local_iso_texts
from popflow.synth.counting import distinct
from popflow.synth.csv_files import month_slices, write_csv, write_gzip_csv
from popflow.synth.geography import Geography
from popflow.synth.ground_truth import month_homes
from popflow.synth.identifiers import increasing_serials, prefixed_ids, unique_numbers
from popflow.synth.phone_activity import HOURLY_RHYTHM
from popflow.synth.residents import Residents

CUSTOMER_ID = SALES.person_column
SALES_COLUMNS = ["order_id", CUSTOMER_ID, "ordered_at", "region_id", "category", "amount", "currency", "channel"]
PENETRATION_COLUMNS = ["month", "region_id", "buyers", "orders", "revenue", "adult_residents"]
PENETRATION = (0.03, 0.25)
ONLINE_SHARE = (0.2, 0.75)
MONTHLY_ACTIVE_SHARE = 0.7
ORDERS_PER_BUYER, ORDER_COUNT_SHARES = np.arange(1, 7), (0.3, 0.25, 0.18, 0.12, 0.09, 0.06)
# Category, share of orders, median amount (CNY), sd of the log amount.
CATEGORIES = (
    ("groceries", 0.38, 85.0, 0.6), ("apparel", 0.20, 260.0, 0.6), ("beauty", 0.14, 180.0, 0.5),
    ("home", 0.13, 350.0, 0.8), ("electronics", 0.10, 1200.0, 0.9), ("sports", 0.05, 300.0, 0.7),
)
SHOP_HOURS = np.array([0.0] * 9 + [0.5, 0.8, 1.0, 1.0, 0.8, 0.7, 0.7, 0.8, 0.9, 1.0, 1.0, 0.9, 0.6] + [0.0] * 2)
CHANNELS = ("online", "offline")


@dataclass(frozen=True)
class Market:
    """The retailer's districts and customers."""

    penetration: np.ndarray  # per district
    online_share: np.ndarray  # per district
    customer_district: np.ndarray  # int16 per customer


@dataclass(frozen=True)
class Orders:
    """One element per order, in time order."""

    customer: np.ndarray  # int64
    date: np.ndarray  # datetime64[D] local date
    second: np.ndarray  # int64 local second of the day
    category: np.ndarray  # index into CATEGORIES
    amount: np.ndarray  # float64 CNY
    online: np.ndarray  # bool

    def select(self, rows: np.ndarray | slice) -> Orders:
        return Orders(**{f.name: getattr(self, f.name)[rows] for f in dataclasses.fields(Orders)})


def build_market(rng: np.random.Generator, geo: Geography, adults: np.ndarray) -> Market:
    """Penetration and online share per district, and customers living there."""
    centrality = geo.density / geo.density.max()
    low, high = PENETRATION
    penetration = np.clip(low + (high - low) * centrality * rng.uniform(0.8, 1.15, geo.districts), low, high)
    online = ONLINE_SHARE[0] + (ONLINE_SHARE[1] - ONLINE_SHARE[0]) * centrality * rng.uniform(0.7, 1.0, geo.districts)
    customers = np.round(adults * penetration / MONTHLY_ACTIVE_SHARE).astype(np.int64)
    district = np.repeat(np.arange(geo.districts, dtype=np.int16), customers)
    return Market(penetration, online, district)


def order_seconds(rng: np.random.Generator, online: np.ndarray) -> np.ndarray:
    """Local second of the day of each order: phone rhythm online, opening hours in shops."""
    web = rng.choice(24, size=len(online), p=HOURLY_RHYTHM / HOURLY_RHYTHM.sum())
    shop = rng.choice(24, size=len(online), p=SHOP_HOURS / SHOP_HOURS.sum())
    return np.where(online, web, shop) * 3600 + rng.integers(0, 3600, len(online))


def amounts(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    median = np.array([c[2] for c in CATEGORIES])[category]
    spread = np.array([c[3] for c in CATEGORIES])[category]
    return np.round(median * np.exp(spread * rng.normal(0.0, 1.0, len(category))), 2)


def month_orders(rng: np.random.Generator, market: Market, dates: np.ndarray) -> Orders:
    """The orders of one month, placed on the given dates (the month's days in the period)."""
    customers = len(market.customer_district)
    buyers = np.flatnonzero(rng.random(customers) < MONTHLY_ACTIVE_SHARE)
    placed = rng.choice(ORDERS_PER_BUYER, size=len(buyers), p=ORDER_COUNT_SHARES)
    customer = np.repeat(buyers, placed)
    online = rng.random(len(customer)) < market.online_share[market.customer_district[customer]]
    shares = np.array([c[1] for c in CATEGORIES])
    category = rng.choice(len(CATEGORIES), size=len(customer), p=shares)
    return Orders(
        customer=customer, date=dates[rng.integers(0, len(dates), len(customer))],
        second=order_seconds(rng, online), category=category, amount=amounts(rng, category), online=online,
    )


def draw_orders(rng: np.random.Generator, market: Market, period: Period) -> Orders:
    """Every order of the period, in time order."""
    dates = np.array([np.datetime64(day.date, "D") for day in period.days])
    months = dates.astype("datetime64[M]")
    parts = [month_orders(rng, market, dates[months == month]) for month in np.unique(months)]
    merged = {f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(Orders)}
    return Orders(**merged).select(np.lexsort((merged["second"], merged["date"])))


def sales_table(orders: Orders, order_ids: pa.Array, customer_ids: pa.Array, market: Market,
                geo: Geography, timezone: str) -> pa.Table:
    """The `sales` input rows of `orders`, given their order ids and the customers' ids."""
    district = market.customer_district[orders.customer]
    return pa.Table.from_arrays([
        order_ids,
        customer_ids.take(pa.array(orders.customer)),
        local_iso_texts(orders.date, orders.second, timezone),
        pa.array(geo.district_ids).take(pa.array(district)),
        pa.array([c[0] for c in CATEGORIES]).take(pa.array(orders.category)),
        pa.array(orders.amount),
        pa.array(np.full(len(district), "CNY")),
        pa.array(CHANNELS).take(pa.array((~orders.online).astype(np.int64))),
    ], names=SALES_COLUMNS)


def write_sales(rng: np.random.Generator, orders: Orders, market: Market, geo: Geography, timezone: str,
                folder: Path) -> list[Path]:
    """Write the sales files month by month; return their paths."""
    order_ids = prefixed_ids("SO", increasing_serials(rng, len(orders.customer), 10**10), 12)
    customer_ids = prefixed_ids("CUS", unique_numbers(rng, len(market.customer_district), 9), 9)
    paths = []
    for month, rows in month_slices(orders.date.astype("datetime64[M]")):
        table = sales_table(orders.select(rows), order_ids[rows], customer_ids, market, geo, timezone)
        paths.append(folder / f"sales-{month}.csv.gz")
        write_gzip_csv(table, paths[-1])
    return paths


def penetration_table(orders: Orders, market: Market, residents: Residents, period: Period,
                      geo: Geography) -> pa.Table:
    """Buyers, orders, revenue and adult residents per month and district, zeros included."""
    districts, adult = geo.districts, is_adult(residents, period)
    district = market.customer_district[orders.customer].astype(np.int64)
    order_month = orders.date.astype("datetime64[M]")
    parts = []
    for month in period.months:
        rows = order_month == np.datetime64(month, "M")
        here, home = month_homes(residents, period, month)
        buyers = distinct(orders.customer[rows])
        parts.append(pa.Table.from_arrays([
            pa.array(np.full(districts, month)),
            pa.array(geo.district_ids),
            pa.array(np.bincount(market.customer_district[buyers], minlength=districts)),
            pa.array(np.bincount(district[rows], minlength=districts)),
            pa.array(np.round(np.bincount(district[rows], orders.amount[rows], districts), 2)),
            pa.array(np.bincount(home[here & adult], minlength=districts)),
        ], names=PENETRATION_COLUMNS))
    return pa.concat_tables(parts)


def write_sales_truth(orders: Orders, market: Market, residents: Residents, period: Period,
                      geo: Geography, path: Path) -> None:
    write_csv(penetration_table(orders, market, residents, period, geo), path)
