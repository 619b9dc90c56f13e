"""A headless Debian Chromium tab driven by Playwright, shared by the dashboard tests."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from playwright.sync_api import sync_playwright

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
