"""Outbound air travel demand of the region: where residents fly, and when.

Flights leave from the region's airports, Guangzhou (CAN, 62 %) and Shenzhen (SZX),
for 59 real airports in 25 countries; each airport's country and coordinates come
from `airportsdata`, never typed in. Departures cover the 104 weeks (Monday to
Sunday) before the week holding the last day of the events period, plus that
week up to its last day, so every week of the second year has its week of the
year before. Expected departures per day and country are

    base x country share x season x day of week x (1 + 10 % a year) x shock,

with a base of 4.5 % of the people per week (the top countries, Japan and
Thailand, get about 100 departures a week at 20 000 people). The season adds
peaks around the Spring Festival, Labour Day, summer (stronger for long-haul
countries, over 5 000 km) and the National Day Golden Week. The shock is a travel
advisory: from the Monday of one ISO week - drawn 60 weeks or more after the
first and at least 9 weeks before the last - departures to one of the four
most popular countries fall to 20 % of what they would have been.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import airportsdata
import numpy as np

from popflow.synth.public_holidays import chinese_new_year

ORIGINS, ORIGIN_SHARES = ("CAN", "SZX"), (0.62, 0.38)
# Destination airports (IATA) and their relative share of the region's departures.
DESTINATION_AIRPORTS = {
    "NRT": 3.0, "HND": 2.5, "KIX": 4.0, "NGO": 1.2, "FUK": 1.0, "CTS": 1.3,
    "BKK": 6.5, "DMK": 2.0, "HKT": 3.0, "CNX": 1.5,
    "ICN": 6.0, "PUS": 1.2, "CJU": 1.8, "SIN": 7.5, "KUL": 5.0, "BKI": 1.5, "PEN": 1.0,
    "SGN": 2.8, "HAN": 2.2, "DAD": 2.0, "CGK": 1.5, "DPS": 3.0, "MNL": 2.2, "CEB": 1.0,
    "LAX": 2.0, "SFO": 1.3, "JFK": 1.2, "SEA": 0.5, "YVR": 1.3, "YYZ": 0.9,
    "LHR": 2.8, "CDG": 2.6, "FRA": 1.4, "MUC": 0.8, "FCO": 1.1, "MXP": 0.8,
    "MAD": 0.8, "BCN": 0.8, "AMS": 1.2, "ZRH": 0.9,
    "SYD": 2.0, "MEL": 1.5, "BNE": 0.6, "AKL": 1.2,
    "DXB": 2.6, "IST": 1.3, "SVO": 2.0, "MLE": 1.1, "CAI": 0.8, "CMB": 0.6,
}
WEEKLY_TRIPS_PER_PERSON = 0.045
SPAN_WEEKS = 104
LONG_HAUL_KM = 5000.0
YEARLY_GROWTH = 0.10
DAY_OF_WEEK = (0.95, 0.85, 0.85, 0.95, 1.2, 1.15, 1.05)  # Monday..Sunday
# Seasonal peaks: centre in a year, width (days), added factor for short- and long-haul.
PEAKS = (
    (lambda year: chinese_new_year(year) - datetime.timedelta(days=1), 6.0, 1.3, 0.6),
    (lambda year: datetime.date(year, 5, 2), 2.5, 0.7, 0.4),
    (lambda year: datetime.date(year, 7, 28), 18.0, 0.4, 0.9),
    (lambda year: datetime.date(year, 10, 3), 3.0, 1.5, 0.9),
    (lambda year: datetime.date(year, 12, 31), 3.0, 0.3, 0.3),
)
SHOCK_CANDIDATES = 4
SHOCK_KEEP = 0.2
SHOCK_EARLIEST_WEEK, SHOCK_WEEKS_BEFORE_END = 60, 9
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Airports:
    """Origin and destination airports with their countries and coordinates."""

    origins: list[str]
    destinations: list[str]
    destination_country: np.ndarray  # index into countries, per destination airport
    countries: list[str]  # ISO 3166-1 alpha-2, sorted
    distance_km: np.ndarray  # (origins, destinations) great-circle distances


@dataclass(frozen=True)
class Demand:
    """Expected departures per day and destination country, and the shock."""

    first: datetime.date  # a Monday
    expected: np.ndarray  # (days, countries)
    season: np.ndarray  # (days, countries) seasonal factor alone, for fares
    shock_country: int
    shock_monday: datetime.date

    @property
    def days(self) -> int:
        return self.expected.shape[0]


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = np.radians([a[0], a[1], b[0], b[1]])
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return float(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h)))


def load_airports() -> Airports:
    """The airports of the scenario, looked up in airportsdata."""
    known = airportsdata.load("IATA")
    destinations = list(DESTINATION_AIRPORTS)
    country_of = [known[code]["country"] for code in destinations]
    countries = sorted(set(country_of))
    position = [(known[code]["lat"], known[code]["lon"]) for code in (*ORIGINS, *destinations)]
    distance = np.array([[great_circle_km(o, d) for d in position[len(ORIGINS):]] for o in position[:len(ORIGINS)]])
    return Airports(list(ORIGINS), destinations, np.array([countries.index(c) for c in country_of]),
                    countries, distance)


def country_shares(airports: Airports) -> np.ndarray:
    weight = np.bincount(airports.destination_country, weights=list(DESTINATION_AIRPORTS.values()))
    return weight / weight.sum()


def span_start(last: datetime.date) -> datetime.date:
    """The Monday SPAN_WEEKS weeks before the week holding `last`."""
    return last - datetime.timedelta(days=last.weekday() + 7 * SPAN_WEEKS)


def peak_factor(dates: list[datetime.date], centre, width: float) -> np.ndarray:
    """exp(-(days to the nearest yearly centre / width)^2 / 2) per date."""
    years = range(dates[0].year - 1, dates[-1].year + 2)
    ordinal = np.array([d.toordinal() for d in dates])
    nearest = np.min([np.abs(ordinal - centre(y).toordinal()) for y in years], axis=0)
    return np.exp(-0.5 * (nearest / width) ** 2)


def seasonal_factors(dates: list[datetime.date], long_haul: np.ndarray) -> np.ndarray:
    """(days, countries) seasonal multiplier, 1 outside the peaks."""
    season = np.ones((len(dates), len(long_haul)))
    for centre, width, short_amplitude, long_amplitude in PEAKS:
        amplitude = np.where(long_haul, long_amplitude, short_amplitude)
        season += peak_factor(dates, centre, width)[:, None] * amplitude[None, :]
    return season


def long_haul_countries(airports: Airports) -> np.ndarray:
    nearest = airports.distance_km.min(axis=0)
    by_country = np.zeros(len(airports.countries))
    np.maximum.at(by_country, airports.destination_country, nearest)
    return by_country > LONG_HAUL_KM


def draw_shock(rng: np.random.Generator, shares: np.ndarray, first: datetime.date, last: datetime.date) -> tuple:
    """The shocked country and the Monday of the shock week."""
    candidates = np.argsort(-shares, kind="stable")[:SHOCK_CANDIDATES]
    weeks = (last - first).days // 7 + 1
    week = int(rng.integers(SHOCK_EARLIEST_WEEK, max(SHOCK_EARLIEST_WEEK, weeks - SHOCK_WEEKS_BEFORE_END) + 1))
    return int(rng.choice(candidates)), first + datetime.timedelta(weeks=week)


def build_demand(rng: np.random.Generator, airports: Airports, people: int, last: datetime.date) -> Demand:
    """Expected departures per day and country up to `last`, shock included."""
    first = span_start(last)
    dates = [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
    shares = country_shares(airports)
    season = seasonal_factors(dates, long_haul_countries(airports))
    weekday = np.array(DAY_OF_WEEK)[[d.weekday() for d in dates]]
    growth = 1.0 + YEARLY_GROWTH * np.arange(len(dates)) / 365.0
    expected = people * WEEKLY_TRIPS_PER_PERSON / 7 * shares[None, :] * season * (weekday * growth)[:, None]
    country, monday = draw_shock(rng, shares, first, last)
    expected[(monday - first).days:, country] *= SHOCK_KEEP
    return Demand(first, expected, season, country, monday)
