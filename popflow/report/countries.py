"""Country names for readers, from ISO 3166-1 alpha-2 codes (``pycountry``)."""

from __future__ import annotations

from functools import lru_cache

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
    text = str(code)
    return len(text) == 2 and text.isalpha() and pycountry.countries.get(alpha_2=text.upper()) is not None
