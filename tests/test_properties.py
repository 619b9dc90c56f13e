"""Invariants on random inputs (hypothesis): no published cell under k, whole
non-negative counts, presence never above the people active in a bin (observed)
or within reach of it (stays)."""

from __future__ import annotations

import datetime

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from popflow.errors import PopflowError

import reference as ref
import scenario

START = datetime.datetime(2026, 1, 20, tzinfo=datetime.UTC)

event = st.tuples(
    st.integers(0, 11),  # person
    st.integers(0, 3 * 86400 - 1),  # second since start
    st.sampled_from(list(scenario.CELL_AREA)),
)


def frame(events: list[tuple[int, int, str]]) -> pd.DataFrame:
    return pd.DataFrame({
        "subscriber_id": [scenario.phone(p) for p, _, _ in events],
        "timestamp": [(START + datetime.timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ") for _, s, _ in events],
        "cell_id": [c for _, _, c in events],
    })


def run_or_refused(ws, events, k, name, **params):
    """The release, or None after checking it was refused because fewer than k people are active."""
    if len({p for p, _, _ in events}) < k:
        with pytest.raises(PopflowError, match="too few people"):
            ws.run(name, **params)
        return None
    return ws.run(name, **params)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(event, min_size=30, max_size=300), k=st.integers(2, 5), carry=st.sampled_from([0, 2]))
def test_presence_invariants(tmp_path_factory, events, k, carry):
    df = frame(events)
    ws = scenario.workspace(tmp_path_factory.mktemp("prop"), df, scenario.subscribers(12), k=k)
    release = run_or_refused(ws, events, k, "present-population", carry=carry, by="gender", method="observed")
    if release is None:
        return
    got = release.to_pandas()
    assert (got["people"] >= k).all()
    assert (got["people"] == got["people"].round()).all()
    local = ref.local_events(df).assign(bin=lambda d: d["local"].dt.floor("60min"))
    if carry == 0:
        active = local.groupby("bin")["person"].nunique()
        totals = got.assign(bin=got["time"].dt.tz_convert(scenario.TIMEZONE).dt.tz_localize(None))
        per_bin = totals.groupby("bin")["people"].sum()
        assert (per_bin <= active.reindex(per_bin.index)).all()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(event, min_size=30, max_size=300), k=st.integers(2, 4), max_gap=st.sampled_from([2, 12]))
def test_presence_from_stays_counts_only_people_seen_within_half_the_max_gap(tmp_path_factory, events, k, max_gap):
    df = frame(events)
    ws = scenario.workspace(tmp_path_factory.mktemp("props"), df, scenario.subscribers(12), k=k)
    release = run_or_refused(ws, events, k, "present-population", by="gender", max_gap=f"{max_gap}h")
    if release is None:
        return
    got = release.to_pandas()
    assert (got["people"] >= k).all()
    middles = got["time"].dt.tz_convert(scenario.TIMEZONE).dt.tz_localize(None) + pd.Timedelta(minutes=30)
    per_bin = got.assign(middle=middles).groupby("middle")["people"].sum()
    local = ref.local_events(df)
    reach = pd.Timedelta(hours=max_gap / 2)
    for middle, people in per_bin.items():
        near = local[(local["local"] - middle).abs() <= reach]
        assert people <= near["person"].nunique()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(event, min_size=30, max_size=300), k=st.integers(2, 4))
def test_every_indicator_respects_k(tmp_path_factory, events, k):
    ws = scenario.workspace(tmp_path_factory.mktemp("propk"), frame(events), scenario.subscribers(12), k=k)
    for name, count, params in [("residents", "people", {"min_nights": 1, "min_days": 1}),
                                ("workers", "people", {"min_nights": 1, "min_days": 1}),
                                ("od-flows", "travellers", {}), ("od-flows", "travellers", {"method": "observed"}),
                                ("migration", "people", {"min_nights": 1, "min_days": 1})]:
        release = run_or_refused(ws, events, k, name, **params)
        if release is None:
            return
        for table in release.tables.values():
            df = table.to_pandas()
            assert (df[count] >= k).all()
            numeric = df.select_dtypes("number")
            assert (numeric.fillna(0) >= 0).all().all()
            suppressed = release.manifest["suppressed"]
            assert all(s["cells_below_k"] >= 0 for s in suppressed.values())
