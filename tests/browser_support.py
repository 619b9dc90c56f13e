"""A headless Debian Chromium tab driven by Playwright, and hand-made published releases, shared by the dashboard
tests."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from playwright.sync_api import sync_playwright

from popflow.workspace import RELEASES_DIR

CHROMIUM = os.environ.get("POPFLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@contextlib.contextmanager
def browser_tab(console_errors: bool = True):
    """A fresh tab recording page errors (and console errors) in ``problems`` and every request URL in ``requests``."""
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": 1280, "height": 820})
    tab = context.new_page()
    tab.problems, tab.requests = [], []
    tab.on("pageerror", lambda error: tab.problems.append(str(error)))
    if console_errors:
        tab.on("console", lambda m: tab.problems.append(m.text) if m.type == "error" else None)
    tab.on("request", lambda r: tab.requests.append(r.url))
    try:
        yield tab
    finally:
        context.close()
        browser.close()
        playwright.stop()


def publish(ws, release_id: str, indicator: str, tables: dict[str, pa.Table], parameters: dict, k: int,
            suppressed: dict | None = None, window: tuple[str, str] = ("2025-12-29", "2026-04-05")) -> None:
    """Store hand-made tables as a published k-mode release (its manifest and one Parquet file per table)."""
    folder = ws.path / RELEASES_DIR / release_id
    folder.mkdir(parents=True)
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")
    manifest = {"release_id": release_id, "indicator": indicator, "parameters": parameters,
                "window": dict(zip(("from", "to"), window, strict=True)), "privacy": {"mode": "k", "k": k},
                "rows": {name: t.num_rows for name, t in tables.items()}, "suppressed": suppressed or {},
                "created_at": release_id}
    (folder / "manifest.json").write_text(json.dumps(manifest))
