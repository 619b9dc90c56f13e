"""Names for readers of the codes that releases carry: countries (ISO 3166-1 alpha-2, from ``pycountry``)
and the regions people are registered in (the optional ``regions`` source).

Releases and downloads keep the codes; reports and the dashboard show these names, with the code beside
them or in a tooltip.
"""

from __future__ import annotations

from functools import cache, lru_cache

import duckdb
import pycountry


@lru_cache(maxsize=512)
def country_name(code: object) -> str:
    """The common name of an ISO alpha-2 country code (``FR`` → ``France``), or the code itself if unknown."""
    text = str(code)
    if len(text) != 2 or not text.isalpha():
        return text
    found = pycountry.countries.get(alpha_2=text.upper())
    return text if found is None else getattr(found, "common_name", None) or found.name


def is_country_code(code: object) -> bool:
    """Whether ``code`` is a known ISO 3166-1 alpha-2 country code."""
    return country_name(code) != str(code)


@cache
def country_names() -> dict[str, str]:
    """Every ISO 3166-1 alpha-2 code with its common name."""
    return {c.alpha_2: country_name(c.alpha_2) for c in pycountry.countries}


def region_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Region code → name from the ingested ``regions`` source (a connection with the lake's views); {} if none."""
    return dict(con.execute("SELECT code, name FROM regions ORDER BY code").fetchall())
