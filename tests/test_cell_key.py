"""The cell key method: consistent perturbation across releases, and the differencing attack it defeats."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

from popflow.disclosure.cell_key import KEYS, perturbation_table
from popflow.errors import PopflowError

import scenario
from test_spark import MASTER  # one Spark session per test process

K = 5
DAY = datetime.date(2026, 1, 27)


def ckm_workspace(folder):
    """120 people over 8 days (k = 5) in a workspace of its own, with a key of its own."""
    events = scenario.random_events(n_people=120, days=8, per_day=6, seed=11, start="2026-01-26")
    return scenario.workspace(folder, events, scenario.subscribers(120, seed=4), k=K)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return ckm_workspace(tmp_path_factory.mktemp("ckm"))


@pytest.mark.parametrize(("maximum", "variance"), [(3, 1.0), (2, 0.5), (5, 2.5)])
def test_perturbation_table_has_mean_zero_the_set_variance_and_its_bound(maximum, variance):
    table = perturbation_table(maximum, variance).to_pandas()
    assert list(table["ckey"]) == list(range(KEYS))
    assert table["pvalue"].abs().max() <= maximum and abs(table["pvalue"].mean()) < 1e-9
    assert table["pvalue"].pow(2).mean() == pytest.approx(variance, abs=0.06)
    shifted = np.roll(table["pvalue"].to_numpy(), -37)  # keys a constant apart are perturbed independently
    assert np.mean(table["pvalue"].to_numpy() == shifted) < 0.5


def presence(ws, privacy: str, **params) -> pd.DataFrame:
    """Present population by observed bin locations (sparse: many small cells)."""
    params = {"method": "observed", **params}
    return ws.run("present-population", privacy=privacy, **params).to_pandas().set_index(["time", "area_id"])


def test_the_same_people_get_the_same_value_whatever_the_level_or_window(ws):
    district = presence(ws, "ckm", level="district")["people"]
    city = presence(ws, "ckm", level="city")["people"]
    one_day = presence(ws, "ckm", date_from=DAY, date_to=DAY)["people"]
    # City Y holds district C only: the same people, so the same perturbed count.
    c = district.xs("C", level="area_id")
    y = city.xs("Y", level="area_id")
    both = c.index.intersection(y.index)
    assert len(both) > 10 and (c[both] == y[both]).all()
    same_day = one_day.index.intersection(district.index)
    assert len(same_day) > 10 and (one_day[same_day] == district[same_day]).all()
    assert (presence(ws, "ckm")["people"] == district).all()  # repeating a release gives the same numbers


def test_ckm_counts_move_by_at_most_the_maximum_and_keep_the_suppression_of_k(ws):
    exact, perturbed = presence(ws, "k"), presence(ws, "ckm")
    assert list(perturbed.index) == list(exact.index)  # the same cells pass k
    change = perturbed["people"] - exact["people"]
    assert change.abs().max() <= 3 and (change != 0).mean() > 0.3


def differencing(ws, privacy: str) -> pd.DataFrame:
    """City X = districts A + B: each hour where one district is suppressed and the other and X are published,
    the suppressed district's count as an attacker computes it, beside the true count (from k = 1 reality)."""
    district, city = presence(ws, privacy, level="district")["people"], presence(ws, privacy, level="city")["people"]
    rows = []
    for time in city.xs("X", level="area_id").index:
        a, b = district.get((time, "A")), district.get((time, "B"))
        if (a is None) != (b is None):
            gone = "A" if a is None else "B"
            rows.append({"time": time, "area_id": gone, "recovered": city[(time, "X")] - (b if a is None else a)})
    return pd.DataFrame(rows)


def true_counts(ws) -> pd.Series:
    """Every district-hour count under present-population's rule (each person in the area of their modal
    event of the hour), read from the lake inside the test: what no release may reveal below k."""
    modal = ws.connect().sql("""
        SELECT slot, area_id, count(*) AS people FROM (
            SELECT person, slot, area_id FROM (
                SELECT person, t - t % 3600 AS slot, area_id, count(*) AS n, max(t) AS latest
                FROM events GROUP BY person, slot, area_id)
            QUALIFY row_number() OVER (PARTITION BY person, slot ORDER BY n DESC, latest DESC, area_id) = 1)
        GROUP BY slot, area_id""").df()
    return modal.set_index(["slot", "area_id"])["people"]


KEYED_WORKSPACES = 12  # the ckm attack is scored over this many workspace keys, each salting every cell key anew


def attack_scores(ws, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """The attacker's recovered counts of suppressed districts and their true counts, in one workspace."""
    truth = true_counts(ws)
    attack = differencing(ws, mode)
    slots = (attack["time"].dt.tz_localize(None) - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    return attack["recovered"].to_numpy(), truth.reindex(list(zip(slots, attack["area_id"], strict=True))).to_numpy()


def test_differencing_recovers_suppressed_cells_in_k_mode_but_not_in_ckm(ws, tmp_path_factory):
    """k mode gives every such cell away exactly. Under ckm the attack's error depends on the workspace key
    (it salts the cell keys), so it is scored over several keys: an attacker recovers fewer than half the cells
    exactly and is off by at least one person on average."""
    recovered, actual = attack_scores(ws, "k")
    assert len(recovered) > 20 and (recovered == actual).all()
    pooled = [attack_scores(ws, "ckm")] + [attack_scores(ckm_workspace(tmp_path_factory.mktemp("ckm-key")), "ckm")
                                           for _ in range(KEYED_WORKSPACES - 1)]
    recovered, actual = (np.concatenate(parts) for parts in zip(*pooled, strict=True))
    assert np.mean(recovered == actual) < 0.5 and np.mean(np.abs(recovered - actual)) >= 1.0


def test_ckm_needs_k_above_the_maximum_perturbation(tmp_path):
    events = scenario.random_events(n_people=30, days=3, per_day=6, seed=1)
    small = scenario.workspace(tmp_path, events, scenario.subscribers(30), k=3)
    with pytest.raises(PopflowError, match="needs k_anonymity"):
        small.run("present-population", privacy="ckm")


def test_ckm_is_the_same_on_spark(ws):
    params = {"privacy": "ckm", "date_from": DAY, "date_to": DAY, "by": "gender", "method": "observed"}
    duck = ws.run("present-population", engine="duckdb", **params).to_pandas()
    spark = ws.run("present-population", engine="spark", engine_options={"master": MASTER}, **params).to_pandas()
    pd.testing.assert_frame_equal(duck, spark)


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    """A workspace where one person, always in district C, is the only one from region 990000."""
    events = scenario.random_events(n_people=150, days=6, per_day=6, seed=12, start="2026-01-26")
    hours = pd.date_range("2026-01-26", periods=6 * 24, freq="h", tz="UTC") + pd.Timedelta(minutes=20)
    lone = pd.DataFrame({"subscriber_id": scenario.phone(0), "cell_id": "c1",
                         "timestamp": hours.strftime("%Y-%m-%dT%H:%M:%SZ")})
    events = pd.concat([events[events["subscriber_id"] != scenario.phone(0)], lone])
    subs = scenario.subscribers(150, seed=5).assign(origin_region="440000")
    subs.loc[subs["subscriber_id"] == scenario.phone(0), "origin_region"] = "990000"
    return scenario.workspace(tmp_path_factory.mktemp("tracked"), events, subs, k=K)


def leftovers(ws, privacy: str) -> pd.Series:
    """Per district and hour: total minus the published cells by origin region."""
    total = presence(ws, privacy)["people"]
    by = ws.run("present-population", privacy=privacy, by="origin_region", method="observed").to_pandas()
    published = by.groupby(["time", "area_id"])["people"].sum().reindex(total.index, fill_value=0)
    return total - published


def pinned(leftover: pd.Series) -> float:
    """Share of hours where C is the only district with someone left out: where the attacker pins the person."""
    flagged = (leftover != 0).unstack("area_id", fill_value=False).reindex(columns=["A", "B", "C"], fill_value=False)
    return float((flagged["C"] & ~flagged["A"] & ~flagged["B"]).mean())


def test_a_person_with_a_rare_attribute_cannot_be_followed_in_ckm(tracked):
    exact, perturbed = leftovers(tracked, "k"), leftovers(tracked, "ckm")
    shown = (exact == 1).groupby(level="area_id").mean()
    assert shown["C"] > 0.8 and shown[["A", "B"]].max() == 0  # k mode shows where the person is, every hour
    assert (perturbed == 1).groupby(level="area_id").mean()["C"] < 0.5
    assert pinned(exact) > 0.8 and pinned(perturbed) < 0.35  # whatever the workspace key


def test_a_person_with_a_rare_attribute_cannot_be_followed_in_dp(tracked):
    total = presence(tracked, "dp", epsilon=1.0)["people"]
    by = tracked.run("present-population", privacy="dp", epsilon=1.0, by="origin_region",
                     method="observed").to_pandas()
    published = by.groupby(["time", "area_id"])["people"].sum().reindex(total.index, fill_value=0)
    noisy = total - published
    hits = (noisy == 1).groupby(level="area_id").mean()
    assert hits["C"] < 0.3 and abs(hits["C"] - hits[["A", "B"]].mean()) < 0.15
