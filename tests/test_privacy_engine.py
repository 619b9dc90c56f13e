"""The privacy engine: DP noise and bounding, budget, audit tampering, dominance, small filters."""

from __future__ import annotations

import json
import math

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from popflow import audit
from popflow.disclosure.differential_privacy import DifferentialPrivacy, _noisy, laplace_scale
from popflow.disclosure.domains import Domains
from popflow.disclosure.k_anonymity import KAnonymity
from popflow.errors import PopflowError
from popflow.indicators.base import Contribution
from popflow.pseudonymise import create_key

import scenario


def discrete_laplace_variance(scale: float) -> float:
    q = math.exp(-1 / scale)
    return 2 * q / (1 - q) ** 2


@pytest.mark.parametrize("scale", [2.0, 5.0])
def test_noise_follows_discrete_laplace_of_the_configured_scale(scale):
    draws = np.array(_noisy([10_000] * 60_000, scale)) - 10_000
    assert abs(draws.mean()) < 0.1 * scale
    variance = draws.var()
    assert variance == pytest.approx(discrete_laplace_variance(scale), rel=0.06)
    # A scale 20 % off would be caught: its variance differs by more than 35 %.
    assert abs(variance / discrete_laplace_variance(scale * 1.2) - 1) > 0.2
    # Tail mass P(|X| >= scale) of a discrete Laplace.
    q = math.exp(-1 / scale)
    k = math.ceil(scale)
    assert (np.abs(draws) >= k).mean() == pytest.approx(2 * q**k / (1 + q), abs=0.01)


def test_scale_comes_from_epsilon_and_sensitivity():
    assert laplace_scale(3, 1.0) == pytest.approx(3.0, rel=1e-6)
    assert laplace_scale(24, 0.5) == pytest.approx(48.0, rel=1e-6)


def bounded(rows: list[tuple[int, int]], max_contrib: int, salt: str = "s") -> pd.DataFrame:
    mech = DifferentialPrivacy(1.0, 1e-7, max_contrib, 5, salt=salt)
    c = Contribution("t", "", ("cell",))
    con = duckdb.connect()
    con.register("contrib", pd.DataFrame(rows, columns=["person", "cell"]).drop_duplicates())
    inner = mech.cells_sql(c, "contrib", Domains()).replace("count(*) AS people", "list(person) AS people")
    return con.sql(inner).df()


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 40)), min_size=1, max_size=200),
       max_contrib=st.integers(1, 5))
def test_no_person_influences_more_than_max_contrib_cells(rows, max_contrib):
    cells = bounded(rows, max_contrib)
    kept = pd.Series([p for people in cells["people"] for p in people])
    assert kept.value_counts().max() <= max_contrib
    original = pd.DataFrame(rows, columns=["person", "cell"]).drop_duplicates()
    for person, n in original.groupby("person").size().items():
        assert kept.eq(person).sum() == min(n, max_contrib)  # nobody loses more than the excess


def test_bounding_sample_is_keyed_deterministic_and_unbiased():
    rows = [(p, c) for p in range(400) for c in range(100)]
    first = bounded(rows, 10, salt="key-a")
    again = bounded(rows, 10, salt="key-a")
    other = bounded(rows, 10, salt="key-b")
    assert first.sort_values("cell")["people"].map(sorted).tolist() == \
        again.sort_values("cell")["people"].map(sorted).tolist()
    assert first.sort_values("cell")["people"].map(sorted).tolist() != \
        other.sort_values("cell")["people"].map(sorted).tolist()
    kept_cells = np.repeat(first["cell"].to_numpy(), first["people"].map(len).to_numpy())
    assert kept_cells.mean() == pytest.approx(49.5, abs=2.5)  # "first L" would give 4.5


@pytest.fixture
def ws(tmp_path):
    events = scenario.random_events(n_people=60, days=6, per_day=8)
    return scenario.workspace(tmp_path, events, scenario.subscribers(60), k=3)


def test_dp_release_records_its_parameters(ws, tmp_path):
    release = ws.run("present-population", privacy="dp", epsilon=1.0, max_contrib=4, out=tmp_path / "p.csv")
    m = json.loads((tmp_path / "p.csv.manifest.json").read_text())
    assert m["privacy"]["mode"] == "dp" and m["privacy"]["epsilon_spent"] == 1.0
    noise = m["noise"]["present-population"]
    assert noise["max_contrib"] == 4 and noise["keys"] == "public"
    assert noise["people"]["noise_scale"] == pytest.approx(4.0, rel=1e-6) and noise["people"]["error_95"] > 0
    df = release.to_pandas()
    assert (df["people"] >= 0).all()
    bins = 6 * 24 + 24  # every bin of every day in the window, for every district
    assert len(df) >= 3 * (bins - 24)
    od = ws.run("od-flows", privacy="dp", epsilon=1.0).manifest["noise"]["od-flows"]
    assert od["keys"] == "data-dependent" and od["threshold"] > 1


def test_dp_likelihood_ratio_within_e_epsilon():
    epsilon, sensitivity = 1.0, 1
    scale = laplace_scale(sensitivity, epsilon)
    # A million draws each: the outermost values hold ~3 000 of them, so the ratio's sampling error (~2 %)
    # stays far inside the 12 % margin; with 100 000 draws it was ~7 % and the test failed now and then.
    with_person = np.array(_noisy([21] * 1_000_000, scale))
    without = np.array(_noisy([20] * 1_000_000, scale))
    for value in range(16, 26):
        a, b = (with_person == value).mean(), (without == value).mean()
        assert max(a / b, b / a) <= math.exp(epsilon) * 1.12


def test_k_mode_differencing_recovers_no_suppressed_cell(tmp_path):
    events = scenario.random_events(n_people=30, days=2, per_day=6, seed=3)
    extra = events[events["subscriber_id"] == scenario.phone(1)].assign(subscriber_id="+8613999999999")
    a = scenario.workspace(tmp_path / "a", events, k=5)
    b = scenario.workspace(tmp_path / "b", pd.concat([events, extra]), k=5)
    for name in ("present-population", "residents", "od-flows"):
        ra = a.run(name, min_nights=1) if name == "residents" else a.run(name)
        rb = b.run(name, min_nights=1) if name == "residents" else b.run(name)
        count = "travellers" if name == "od-flows" else "people"
        keys = [c for c in ra.table.column_names if c not in (count, "trips")]
        da, db = ra.to_pandas(), rb.to_pandas()
        assert (da[count] >= 5).all() and (db[count] >= 5).all()
        both = da.merge(db, on=keys, suffixes=("_a", "_b"))
        assert ((both[f"{count}_b"] - both[f"{count}_a"]).abs() <= 1).all()
        # No release carries a total: no row's key is a roll-up of others.
        assert not any(da[k].isin(["ALL", "TOTAL", None]).any() for k in keys)
        suppressed = ra.manifest["suppressed"][name]["cells_below_k"]
        assert suppressed >= 0 and len(da) + suppressed > len(da) or suppressed == 0


def test_small_windows_are_refused_without_revealing_counts(tmp_path):
    events = scenario.random_events(n_people=30, days=3, per_day=6, seed=4)
    lone = pd.DataFrame({"subscriber_id": [scenario.phone(99)], "timestamp": ["2026-01-28T10:00:00Z"],
                         "cell_id": ["a1"]})
    ws = scenario.workspace(tmp_path, pd.concat([events, lone]), k=5)
    messages = set()
    for first, last in [("2026-01-28", "2026-01-28"), ("2026-01-27", "2026-01-28"), ("2027-01-01", "2027-01-05")]:
        for name in ("present-population", "residents", "od-flows", "workers", "migration"):
            with pytest.raises(PopflowError) as err:
                ws.run(name, date_from=first, date_to=last)
            messages.add(str(err.value))
    assert len(messages) == 1 and not any(ch.isdigit() for ch in messages.pop())


def test_budget_refuses_the_release_that_would_pass_the_limit_and_writes_nothing(ws, tmp_path):
    ws.run("residents", privacy="dp", epsilon=6.0)
    before = (sorted(p.name for p in (ws.path / "releases").iterdir()),
              (ws.path / "audit.jsonl").read_text(), ws.budget().rows())
    with pytest.raises(PopflowError, match="privacy budget exceeded"):
        ws.run("residents", privacy="dp", epsilon=5.0, out=tmp_path / "r.csv")
    after = (sorted(p.name for p in (ws.path / "releases").iterdir()),
             (ws.path / "audit.jsonl").read_text(), ws.budget().rows())
    assert before == after and not (tmp_path / "r.csv").exists()
    ws.run("residents", privacy="dp", epsilon=4.0)  # exactly up to the limit is allowed
    assert all(r["epsilon_remaining"] == pytest.approx(0) for r in ws.budget().rows())


@pytest.fixture
def audited(tmp_path):
    log = tmp_path / "audit.jsonl"
    create_key(tmp_path)
    for i in range(4):
        audit.append(log, {"who": "t", "indicator": f"i{i}"})
    assert audit.verify(log) == (4, None)
    return log


@pytest.mark.parametrize("tamper,bad_line", [
    (lambda lines: [lines[0], lines[1].replace('"i1"', '"i9"'), *lines[2:]], 3),  # edit
    (lambda lines: [lines[0], *lines[2:]], 2),  # delete
    (lambda lines: [lines[0], lines[2], lines[1], lines[3]], 2),  # reorder
    (lambda lines: lines[:3], 4),  # truncate whole lines
])
def test_audit_tampering_is_detected(audited, tamper, bad_line):
    lines = audited.read_text().splitlines()
    audited.write_text("\n".join(tamper(lines)) + "\n")
    assert audit.verify(audited)[1] == bad_line


def test_audit_cut_mid_line_is_detected(audited):
    audited.write_text(audited.read_text()[:-20])
    assert audit.verify(audited)[1] == 4


def test_dominance_withholds_a_magnitude_with_one_big_contributor():
    con = duckdb.connect()
    rows = [(p, "X", 1) for p in range(5)] + [(9, "Y", 50)] + [(p, "Y", 1) for p in range(5)]
    con.register("contrib", pd.DataFrame(rows, columns=["person", "cell", "trips"]))
    k = KAnonymity(k=5, dominance=0.5)
    c = Contribution("t", "", ("cell",), people="travellers", sums=("trips",))
    con.execute(f"CREATE TABLE cells AS {k.cells_sql(c, 'contrib')}")
    published = con.sql(k.published_sql(c, "cells")).df().set_index("cell")
    assert published.loc["X", "trips"] == 5 and pd.isna(published.loc["Y", "trips"])
    assert published.loc["Y", "travellers"] == 6
    assert con.execute(k.suppression_sql(c, "cells")).fetchall() == [(0, 1)]
    small = KAnonymity(k=7, dominance=0.5)
    assert con.sql(small.published_sql(c, "cells")).df().empty  # cells under k are absent


def test_keys_are_public_only_as_their_contribution_declares():
    """A key's public domain comes from its contribution's declaration, never from its column's name."""
    import datetime

    import pyarrow as pa

    calendar = pa.table({"day": [20479, 20480], "date": [datetime.date(2026, 1, 26), datetime.date(2026, 1, 27)],
                         "period": ["2026-01", "2026-01"]})
    domains = Domains.for_window(calendar, pa.table({"target_id": ["b", "a", "b"]}), 3600)
    declared = Contribution("t", "", ("time", "area_id", "gender"), public=(("time", "bins"), ("area_id", "areas")))
    keys = domains.declared_by(declared)
    assert keys.public(declared.keys) and keys.values["area_id"] == ["a", "b"] and len(keys.values["time"]) == 48
    assert domains.contribution_bound(declared) == 24
    undeclared = Contribution("t", "", ("time", "area_id"), public=(("time", "bins"),))
    assert not domains.declared_by(undeclared).public(undeclared.keys)
    daily = Contribution("t", "", ("date", "place"), public=(("date", "dates"), ("place", "areas")))
    assert domains.declared_by(daily).public(daily.keys) and domains.contribution_bound(daily) == 2
    moves = Contribution("t", "", ("period_from", "period_to"), labels=("period_from",),
                         public=(("period_to", "months"),))
    assert domains.contribution_bound(moves) == 1
