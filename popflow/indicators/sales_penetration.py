"""sales-penetration: a retailer's buyers per month and region against the potential market.

``orders``, ``buyers`` (distinct customers), ``revenue`` (base currency when an
fx table is ingested), ``online_share`` (online orders ÷ orders) per month and
region (``--level``; an order's region rolls up to its ancestor at that level).
``potential``: adult residents (age ≥ 18) of the region, from the month's
detected homes by age band — every band from 20-24 up, plus two fifths of the
15-19 band (ages 18 and 19, assuming ages spread evenly in the band) — scaled
by the census population over the detected residents when a population table
is ingested. ``penetration`` = buyers ÷ potential; ``opportunity`` = potential −
buyers; ``--rank opportunity`` orders regions by it. Every input cell passes
disclosure control before these are combined.
"""

from __future__ import annotations

from popflow.indicators import Contribution, Indicator, register
from popflow.indicators.blocks import home_ctes, with_query
from popflow.indicators.money import converted_sql, fx_join
from popflow.indicators.params import Retail

ADULT_SHARE_15_19 = 0.4  # ages 18 and 19 of the five ages 15–19
COLUMNS = ("month", "region_id", "orders", "buyers", "revenue", "online_share", "potential", "penetration",
           "opportunity")
REGIONS = """SELECT a.area_id, a.ancestor_id AS region_id FROM area_ancestors a
    WHERE a.ancestor_id IN (SELECT DISTINCT target_id FROM area_map)"""


def define(p: Retail) -> list[Contribution]:
    buyers = f"""
    WITH regions AS ({REGIONS})
    SELECT s.person, c.period AS month, r.region_id, count(*) AS orders,
           sum({converted_sql('s.amount')}) AS revenue,
           sum(CASE WHEN s.channel = 'online' THEN 1 ELSE 0 END) AS online_orders
    FROM sales s JOIN calendar c ON c.date = s.date JOIN regions r ON r.area_id = s.region_id
    {fx_join('s.currency', 's.date')}
    GROUP BY s.person, c.period, r.region_id
    """
    residents = """
    SELECT h.person, h.period AS month, m.target_id AS region_id,
           CASE WHEN s.age_band IN ('<15', 'unknown') OR s.age_band IS NULL THEN 'other'
                WHEN s.age_band = '15-19' THEN '15-19' ELSE 'adult' END AS age_class
    FROM home h JOIN area_map m ON m.area_id = h.area_id LEFT JOIN subscribers s ON s.person = h.person
    """
    return [
        Contribution("buyers", buyers, ("month", "region_id"), people="buyers", sums=("orders", "online_orders"),
                     amounts=("revenue",)),
        Contribution("residents", with_query(home_ctes(p.min_nights), residents),
                     ("month", "region_id", "age_class"), people="residents"),
    ]


def combine(published: dict[str, str], p: Retail) -> dict[str, str]:
    """Buyers joined with the potential market computed from published resident cells."""
    order = "opportunity DESC, month, region_id" if p.rank else "month, region_id"
    rank = f", row_number() OVER (ORDER BY {order}) AS rank" if p.rank else ""
    return {"sales-penetration": f"""
    WITH classes AS (
        SELECT month, region_id, sum(residents) AS detected,
               sum(CASE WHEN age_class = 'adult' THEN residents
                        WHEN age_class = '15-19' THEN {ADULT_SHARE_15_19} * residents ELSE 0 END) AS adults
        FROM {published['residents']} GROUP BY month, region_id
    ), potential AS (
        SELECT c.month, c.region_id,
               round(c.adults * coalesce(t.population / c.detected, 1.0)) AS potential
        FROM classes c LEFT JOIN target_population t ON t.area_id = c.region_id
    ), joined AS (
        SELECT b.month, b.region_id, b.orders, b.buyers, b.revenue, b.online_orders / b.orders AS online_share,
               p.potential, b.buyers / p.potential AS penetration, p.potential - b.buyers AS opportunity
        FROM {published['buyers']} b LEFT JOIN potential p ON p.month = b.month AND p.region_id = b.region_id
    )
    SELECT *{rank} FROM joined ORDER BY {order}
    """}


INDICATOR = register(Indicator(
    name="sales-penetration",
    summary="orders, buyers, revenue per month × region against adult residents (--rank opportunity)",
    params=Retail,
    define=define,
    description=__doc__,
    uses=("sales", "events"),
    combine=combine,
    measures=("orders", "buyers", "revenue", "online_share", "potential", "penetration", "opportunity"),
    shares=("online_share", "penetration"),
))
