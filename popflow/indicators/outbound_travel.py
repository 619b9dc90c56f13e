"""outbound-travel: trips abroad per ISO week of departure and destination country.

``trips``: tickets departing in the week; ``travellers``: people holding them;
``spend_total``: their fares (in the base currency when an fx table is
ingested; ``currency`` says which); ``spend_median``: the median over
travellers of each one's spend (rounded to three significant digits);
``premium_share``: share of trips in premium, business or first cabins;
``change_vs_prev_year``: trips against the same ISO week a year earlier, and
``change_vs_prev_4w`` against the mean of the four previous weeks (relative
change, from published cells only). ``--rank spend`` orders destinations by
mean spend per traveller (high-spender destinations).
"""

from __future__ import annotations

from popflow.indicators import Contribution, Indicator, register
from popflow.indicators.blocks import with_query
from popflow.indicators.money import converted_sql, currency_sql, fx_join
from popflow.indicators.params import Outbound

PREMIUM = "('premium', 'business', 'first')"
COLUMNS = ("week", "destination_country", "trips", "travellers", "spend_total", "spend_median", "premium_share",
           "change_vs_prev_year", "change_vs_prev_4w", "currency")


def define(p: Outbound) -> list[Contribution]:
    trips = f"""
    SELECT t.person, c.week, t.destination_country, {currency_sql('t.currency')} AS currency,
           {converted_sql('t.fare')} AS spend,
           CASE WHEN t.cabin IN {PREMIUM} THEN 1 ELSE 0 END AS premium
    FROM tickets t JOIN calendar c ON c.date = t.date{fx_join('t.currency', 'CAST(t.purchased_at AS DATE)')}
    """
    select = """
    SELECT person, week, destination_country, currency, count(*) AS trips, sum(spend) AS spend_total,
           sum(premium) AS premium_trips, sum(spend) AS spend
    FROM trips GROUP BY person, week, destination_country, currency
    """
    return [Contribution("outbound-travel", with_query([("trips", trips)], select),
                         ("week", "destination_country", "currency"), people="travellers",
                         sums=("trips", "premium_trips"), amounts=("spend_total",), medians=("spend",),
                         columns=COLUMNS, labels=("currency",))]


def finish_sql(published: str, p: Outbound) -> str:
    """Shares, changes against earlier weeks (published cells only) and the window's weeks."""
    rank = p.rank
    order = "spend_total / travellers DESC, week, destination_country" if rank else "week, destination_country"
    return f"""
    WITH weeks AS (SELECT DISTINCT week, week_index FROM calendar),
    cells AS (SELECT p.*, w.week_index FROM {published} p JOIN weeks w ON w.week = p.week),
    previous AS (
        SELECT c.week, c.destination_country, c.currency, avg(q.trips) AS mean_trips, count(*) AS weeks
        FROM cells c JOIN cells q ON q.destination_country = c.destination_country AND q.currency = c.currency
             AND q.week_index BETWEEN c.week_index - 4 AND c.week_index - 1
        WHERE q.trips IS NOT NULL
        GROUP BY c.week, c.destination_country, c.currency
    ),
    changes AS (
        SELECT c.*, c.trips / y.trips - 1 AS change_vs_prev_year,
               CASE WHEN q.weeks = 4 THEN c.trips / q.mean_trips - 1 END AS change_vs_prev_4w
        FROM cells c
        LEFT JOIN cells y ON y.destination_country = c.destination_country AND y.currency = c.currency
             AND y.week = CAST(CAST(substr(c.week, 1, 4) AS INT) - 1 AS VARCHAR) || substr(c.week, 5)
        LEFT JOIN previous q ON q.week = c.week AND q.destination_country = c.destination_country
             AND q.currency = c.currency
    )
    SELECT week, destination_country, trips, travellers, spend_total, spend_median,
           premium_trips / trips AS premium_share, change_vs_prev_year, change_vs_prev_4w, currency
           {', row_number() OVER (ORDER BY ' + order + ') AS rank' if rank else ''}
    FROM changes
    WHERE week IN (SELECT week FROM calendar, release_window WHERE date BETWEEN first AND last)
    ORDER BY {order}
    """


INDICATOR = register(Indicator(
    name="outbound-travel",
    summary="trips, travellers and spend abroad per ISO week × destination country (--rank spend)",
    params=Outbound,
    define=define,
    description=__doc__,
    uses=("tickets",),
    lookback_days=400,
    finish=finish_sql,
    measures=("trips", "travellers", "spend_total", "spend_median", "premium_share", "change_vs_prev_year",
              "change_vs_prev_4w"),
    shares=("premium_share", "change_vs_prev_year", "change_vs_prev_4w"),
))
