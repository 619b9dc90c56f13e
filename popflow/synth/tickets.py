"""Outbound tickets sold by a travel seller, and the truth about outbound travel.

Departures per day and country follow `outbound_demand` (Poisson counts). Each
ticket gets a destination airport of its country, an origin (CAN or SZX), a cabin
(economy 85 %, premium economy 7 %, business 7 %, first 1 %), and a traveller among
the seller's customers (1.5 per synthetic person, `TRV` + 9 digits; how often
each travels is lognormal, so some fly often). It is bought 1-90 days before
departure (median 21 days, 9 in business and first), at an hour following the
daily rhythm of phone use; it departs between 06:30 and 23:55 local time.

The economy fare in CNY is (450 + 0.5 x great-circle km) x (0.8 + 0.2 x season)
x a lead-time factor (1.3 within a week, 1.1 within three weeks, 0.92 beyond two
months) x lognormal noise (sd 0.18); the other cabins cost 1.7, 3.6 and 6.5 times
as much. About 84 % of tickets are paid in CNY (whole yuan), 10 % in USD and 6 %
in EUR (more USD to North America, more EUR to the euro area), converted at the
purchase day's rate and rounded to cents. Channels: online, app, agency (business
and first more often through agencies).

`tickets/tickets-YYYY-MM.csv.gz` holds the tickets purchased in one month, in
purchase order. `truth/outbound_weekly.csv` has one row per ISO week of departure
and destination country, zeros included: `week, destination_country, trips,
travellers, spend_total_cny`, where spend converts each fare at the fx rate of
its purchase date. `truth/outbound_shock.json` names the shocked country and the
ISO week the shock starts: `{"destination_country": "KR", "week": "2025-W42"}`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from popflow.ingest.tickets import SOURCE as TICKETS
from popflow.synth.clock import local_iso_texts
from popflow.synth.counting import distinct
from popflow.synth.csv_files import month_slices, write_csv, write_gzip_csv
from popflow.synth.fx import CURRENCIES, FxRates
from popflow.synth.identifiers import increasing_serials, prefixed_ids, unique_numbers
from popflow.synth.outbound_demand import DESTINATION_AIRPORTS, ORIGIN_SHARES, Airports, Demand
from popflow.synth.phone_activity import HOURLY_RHYTHM

TRAVELLER_ID = TICKETS.person_column
TICKET_COLUMNS = ["ticket_id", TRAVELLER_ID, "purchased_at", "departs_at", "origin", "destination",
                  "destination_country", "fare", "currency", "cabin", "channel"]
OUTBOUND_WEEKLY_COLUMNS = ["week", "destination_country", "trips", "travellers", "spend_total_cny"]
CUSTOMERS_PER_PERSON = 1.5
CABINS = ("economy", "premium", "business", "first")
CABIN_SHARES = (0.85, 0.07, 0.07, 0.01)
CABIN_MULTIPLIERS = np.array([1.0, 1.7, 3.6, 6.5])
CHANNELS = ("online", "app", "agency")
CHANNEL_SHARES = ((0.42, 0.38, 0.20), (0.30, 0.30, 0.40))  # economy and premium; business and first
CURRENCY_SHARES = {"default": (0.86, 0.10, 0.04), "USD": (0.75, 0.23, 0.02), "EUR": (0.72, 0.06, 0.22)}
USD_COUNTRIES, EUR_COUNTRIES = {"US", "CA"}, {"FR", "DE", "IT", "ES", "NL"}
LEAD_MEDIAN_DAYS, LEAD_MEDIAN_PREMIUM_DAYS, LEAD_SPREAD, MAX_LEAD_DAYS = 21.0, 9.0, 0.75, 90
AIRLINE_PREFIXES, AIRLINE_SHARES = ("784", "781", "999", "880", "731", "618"), (0.45, 0.15, 0.12, 0.1, 0.1, 0.08)


@dataclass(frozen=True)
class Tickets:
    """One element per ticket, in purchase order."""

    traveller: np.ndarray  # int64 customer index
    purchased: np.ndarray  # datetime64[D] local purchase date
    purchase_second: np.ndarray  # int64 local second of the purchase day
    departs: np.ndarray  # datetime64[D] local departure date
    departure_second: np.ndarray  # int64
    origin: np.ndarray  # index into airports.origins
    destination: np.ndarray  # index into airports.destinations
    country: np.ndarray  # index into airports.countries
    cabin: np.ndarray  # index into CABINS
    channel: np.ndarray  # index into CHANNELS
    currency: np.ndarray  # index into CURRENCIES
    fare: np.ndarray  # float64 in `currency`

    def __len__(self) -> int:
        return len(self.traveller)

    def select(self, rows: np.ndarray | slice) -> Tickets:
        return Tickets(**{f.name: getattr(self, f.name)[rows] for f in dataclasses.fields(Tickets)})


def departures(rng: np.random.Generator, demand: Demand) -> tuple[np.ndarray, np.ndarray]:
    """Departure day index and country of every ticket."""
    counts = rng.poisson(demand.expected)
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    return cell // counts.shape[1], cell % counts.shape[1]


def airports_of(rng: np.random.Generator, country: np.ndarray, airports: Airports, weights: np.ndarray) -> np.ndarray:
    """A destination airport in each ticket's country, by the airports' shares."""
    chosen = np.empty(len(country), dtype=np.int64)
    for index in range(len(airports.countries)):
        rows = np.flatnonzero(country == index)
        members = np.flatnonzero(airports.destination_country == index)
        share = weights[members] / weights[members].sum()
        chosen[rows] = members[rng.choice(len(members), size=len(rows), p=share)]
    return chosen


def lead_days(rng: np.random.Generator, cabin: np.ndarray) -> np.ndarray:
    median = np.where(cabin >= 2, LEAD_MEDIAN_PREMIUM_DAYS, LEAD_MEDIAN_DAYS)
    days = np.round(median * rng.lognormal(0.0, LEAD_SPREAD, len(cabin)))
    return np.clip(days, 1, MAX_LEAD_DAYS).astype(np.int64)


def lead_factor(lead: np.ndarray) -> np.ndarray:
    return np.select([lead < 7, lead < 21, lead > 60], [1.3, 1.1, 0.92], 1.0)


def purchase_seconds(rng: np.random.Generator, count: int) -> np.ndarray:
    """Seconds of the day at which tickets are bought, following the phone-use rhythm."""
    hour = rng.choice(24, size=count, p=HOURLY_RHYTHM / HOURLY_RHYTHM.sum())
    return hour * 3600 + rng.integers(0, 3600, count)


def currencies_of(rng: np.random.Generator, country: np.ndarray, countries: list[str]) -> np.ndarray:
    kind = ["USD" if c in USD_COUNTRIES else "EUR" if c in EUR_COUNTRIES else "default" for c in countries]
    shares = np.array([CURRENCY_SHARES[k] for k in kind])[country]
    return (rng.random(len(country))[:, None] > np.cumsum(shares, axis=1)[:, :-1]).sum(axis=1)


def fares(
    rng: np.random.Generator, distance: np.ndarray, season: np.ndarray, lead: np.ndarray, cabin: np.ndarray,
) -> np.ndarray:
    """Fares in CNY."""
    economy = (450.0 + 0.5 * distance) * (0.8 + 0.2 * season) * lead_factor(lead)
    return economy * CABIN_MULTIPLIERS[cabin] * rng.lognormal(0.0, 0.18, len(cabin))


def in_currency(fare_cny: np.ndarray, currency: np.ndarray, purchased: np.ndarray, fx: FxRates) -> np.ndarray:
    """Fares converted at the purchase day's rate: whole yuan, or cents of USD and EUR."""
    converted = fare_cny / fx.to_base(currency, purchased)
    return np.where(currency == 0, np.round(converted), np.round(converted, 2))


def channels_of(rng: np.random.Generator, cabin: np.ndarray) -> np.ndarray:
    shares = np.array(CHANNEL_SHARES)[(cabin >= 2).astype(np.int64)]
    return (rng.random(len(cabin))[:, None] > np.cumsum(shares, axis=1)[:, :-1]).sum(axis=1)


def customer_count(people: int) -> int:
    return max(1, round(CUSTOMERS_PER_PERSON * people))


def draw_travellers(rng: np.random.Generator, people: int, count: int) -> np.ndarray:
    """The customer buying each ticket; customers' habits are lognormal."""
    habit = rng.lognormal(0.0, 1.0, customer_count(people))
    return rng.choice(len(habit), size=count, p=habit / habit.sum())


def draw_tickets(rng: np.random.Generator, demand: Demand, airports: Airports, fx: FxRates, people: int) -> Tickets:
    """Every ticket departing in the demand's span, in purchase order."""
    day, country = departures(rng, demand)
    count = len(day)
    destination = airports_of(rng, country, airports, np.array(list(DESTINATION_AIRPORTS.values())))
    origin = rng.choice(len(airports.origins), size=count, p=ORIGIN_SHARES)
    cabin = rng.choice(len(CABINS), size=count, p=CABIN_SHARES)
    lead = lead_days(rng, cabin)
    departs = np.datetime64(demand.first, "D") + day
    purchased = departs - lead
    fare_cny = fares(rng, airports.distance_km[origin, destination], demand.season[day, country], lead, cabin)
    currency = currencies_of(rng, country, airports.countries)
    tickets = Tickets(
        traveller=draw_travellers(rng, people, count),
        purchased=purchased, purchase_second=purchase_seconds(rng, count),
        departs=departs, departure_second=rng.integers(78, 288, count) * 300,
        origin=origin, destination=destination, country=country, cabin=cabin,
        channel=channels_of(rng, cabin),
        currency=currency, fare=in_currency(fare_cny, currency, purchased, fx),
    )
    return tickets.select(np.lexsort((tickets.purchase_second, tickets.purchased)))


def ticket_ids(rng: np.random.Generator, count: int) -> pa.Array:
    """13-digit e-ticket numbers: an airline prefix and an increasing serial."""
    prefix = np.array(AIRLINE_PREFIXES)[rng.choice(len(AIRLINE_PREFIXES), size=count, p=AIRLINE_SHARES)]
    return prefixed_ids(pa.array(prefix), increasing_serials(rng, count, 10**9), 10)


def ticket_table(tickets: Tickets, ids: pa.Array, traveller_ids: pa.Array, airports: Airports,
                 timezone: str) -> pa.Table:
    """The `tickets` input rows of `tickets`, given their ticket ids and the customers' ids."""
    return pa.Table.from_arrays([
        ids,
        traveller_ids.take(pa.array(tickets.traveller)),
        local_iso_texts(tickets.purchased, tickets.purchase_second, timezone),
        local_iso_texts(tickets.departs, tickets.departure_second, timezone),
        pa.array(airports.origins).take(pa.array(tickets.origin)),
        pa.array(airports.destinations).take(pa.array(tickets.destination)),
        pa.array(airports.countries).take(pa.array(tickets.country)),
        pa.array(tickets.fare),
        pa.array(CURRENCIES).take(pa.array(tickets.currency)),
        pa.array(CABINS).take(pa.array(tickets.cabin)),
        pa.array(CHANNELS).take(pa.array(tickets.channel)),
    ], names=TICKET_COLUMNS)


def write_tickets(rng: np.random.Generator, tickets: Tickets, airports: Airports, people: int,
                  timezone: str, folder: Path) -> list[Path]:
    """Write the ticket files month by month of purchase; return their paths."""
    ids = ticket_ids(rng, len(tickets))
    traveller_ids = prefixed_ids("TRV", unique_numbers(rng, customer_count(people), 9), 9)
    paths = []
    for month, rows in month_slices(tickets.purchased.astype("datetime64[M]")):
        table = ticket_table(tickets.select(rows), ids[rows], traveller_ids, airports, timezone)
        paths.append(folder / f"tickets-{month}.csv.gz")
        write_gzip_csv(table, paths[-1])
    return paths


def iso_week(date: np.datetime64) -> str:
    year, week, _ = date.astype(object).isocalendar()
    return f"{year}-W{week:02d}"


def outbound_weekly_table(tickets: Tickets, demand: Demand, airports: Airports, fx: FxRates) -> pa.Table:
    """Trips, travellers and spend in CNY per ISO week of departure and country, zeros included."""
    weeks, countries = (demand.days + 6) // 7, len(airports.countries)
    cells = weeks * countries
    week = (tickets.departs - np.datetime64(demand.first, "D")).astype(np.int64) // 7
    cell = week * countries + tickets.country
    spend = tickets.fare * fx.to_base(tickets.currency, tickets.purchased)
    stride = int(tickets.traveller.max(initial=0)) + 1
    travelling = distinct(cell * stride + tickets.traveller) // stride  # one cell per traveller and cell
    mondays = np.datetime64(demand.first, "D") + 7 * np.arange(weeks)
    return pa.Table.from_arrays([
        pa.array(np.repeat([iso_week(m) for m in mondays], countries)),
        pa.array(np.tile(np.array(airports.countries), weeks)),
        pa.array(np.bincount(cell, minlength=cells)),
        pa.array(np.bincount(travelling, minlength=cells)),
        pa.array(np.round(np.bincount(cell, weights=spend, minlength=cells), 2)),
    ], names=OUTBOUND_WEEKLY_COLUMNS)


def write_outbound_truth(tickets: Tickets, demand: Demand, airports: Airports, fx: FxRates, truth: Path) -> None:
    write_csv(outbound_weekly_table(tickets, demand, airports, fx), truth / "outbound_weekly.csv")
    shock = {"destination_country": airports.countries[demand.shock_country],
             "week": iso_week(np.datetime64(demand.shock_monday, "D"))}
    (truth / "outbound_shock.json").write_text(json.dumps(shock) + "\n", encoding="utf-8")
