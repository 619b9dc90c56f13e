"""Money in the base currency: SQL shared by the travel and retail indicators."""

from __future__ import annotations


def converted_sql(amount: str) -> str:
    """``amount`` in the base currency when an fx table holds that day's rate, else as recorded."""
    return f"{amount} * coalesce(fx.rate_to_base, 1.0)"


def fx_join(currency: str, date: str) -> str:
    """The join bringing in the day's rate (none when no fx table was ingested)."""
    return f" LEFT JOIN fx ON fx.currency = {currency} AND fx.date = {date}"


def currency_sql(currency: str) -> str:
    """The currency of converted amounts: the fx base (rate 1.0), or the recorded one without fx."""
    return (f"CASE WHEN fx.rate_to_base IS NOT NULL THEN coalesce((SELECT min(currency) FROM fx "
            f"WHERE rate_to_base = 1.0), 'BASE') ELSE {currency} END")
