"""Public reference tables from maintained packages: airports, countries, currencies, MCCs.

- airports: ``airportsdata`` (IATA code → city, country; MIT licence);
- countries and currencies: ``pycountry`` (ISO 3166-1, ISO 4217 from Debian's iso-codes; LGPL);
- mobile country codes: ``mobile-codes`` (ITU E.212 MCC → ISO 3166-1; MIT licence). An MCC
  shared by several territories (310: United States, Guam, Puerto Rico …) maps to the
  country holding the most MCCs, i.e. the main one.

Each table is built once per process as an Arrow table an engine can join.
"""

from __future__ import annotations

import functools

import airportsdata
import mobile_codes
import pyarrow as pa
import pycountry


@functools.cache
def airports() -> pa.Table:
    """``iata, city, country`` for every airport with an IATA code."""
    rows = airportsdata.load("IATA")
    codes = sorted(rows)
    return pa.table({"iata": codes, "city": [rows[c]["city"] for c in codes],
                     "country": [rows[c]["country"] for c in codes]})


@functools.cache
def countries() -> pa.Table:
    """``country`` (ISO 3166-1 alpha-2) and ``name``."""
    entries = sorted(pycountry.countries, key=lambda c: c.alpha_2)
    return pa.table({"country": [c.alpha_2 for c in entries], "name": [c.name for c in entries]})


@functools.cache
def currencies() -> pa.Table:
    """``currency`` (ISO 4217 alpha-3)."""
    return pa.table({"currency": sorted(c.alpha_3 for c in pycountry.currencies)})


@functools.cache
def mcc_countries() -> pa.Table:
    """``mcc`` → ``country`` (ISO alpha-2) of the main country using that MCC."""
    mccs, found = [], []
    for code in (f"{n:03d}" for n in range(200, 800)):  # ITU E.212 geographic MCCs
        candidates = mobile_codes.mcc(code)
        if candidates:
            main = max(candidates, key=lambda c: len(c.mcc) if isinstance(c.mcc, list) else 1)
            mccs.append(code)
            found.append(main.alpha2)
    return pa.table({"mcc": mccs, "country": found})
