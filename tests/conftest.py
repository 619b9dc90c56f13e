"""Fixtures shared by the test modules: workspaces built once per session."""

from __future__ import annotations

import pandas as pd
import pytest

import scenario


@pytest.fixture(scope="session")
def every_source_workspace(tmp_path_factory):
    """A workspace (k=4, above ckm's largest perturbation) holding every source: areas, cells, subscribers,
    population, events, tickets, sales, fx.

    Events cover 2026-01-26 to 2026-02-08 (60 people); tickets depart from 2025-12-01 for 12 weeks; sales
    cover the events' days. Tests that spend privacy budget or add data build their own workspace.
    """
    root = tmp_path_factory.mktemp("every-source")
    events = scenario.random_events(n_people=60, days=14, per_day=10, seed=3, start="2026-01-26")
    events["mcc"] = ["460" if i % 10 else "450" for i in range(len(events))]
    population = pd.DataFrame({"area_id": ["A", "B", "C"], "population": [3000, 2000, 1000]})
    ws = scenario.workspace(root, events, scenario.subscribers(60, seed=2), k=4, population=population)
    scenario.ingest_frames(ws, root / "more", tickets=scenario.random_tickets(40, weeks=12, per_week=30),
                           sales=scenario.random_sales(25, days=14, per_day=20, start="2026-01-26"),
                           fx=scenario.fx_rates("2025-11-01", "2026-03-31"))
    return ws


@pytest.fixture
def small_ws(tmp_path):
    """A fresh workspace (k=2) with six people's events of one day, for tests that ingest into it."""
    return scenario.workspace(tmp_path, scenario.random_events(n_people=6, days=1, per_day=4),
                              scenario.subscribers(6))


@pytest.fixture(scope="module")
def subscribers(folder):
    """The synthetic world's subscriber register (``folder``: the world a synth test module generated)."""
    return pd.read_csv(folder / "subscribers.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def homes(folder):
    """The synthetic world's true homes and workplaces (``truth/homes.csv``)."""
    return pd.read_csv(folder / "truth" / "homes.csv", dtype=str, keep_default_na=False)
