"""Fixtures of the browser tests: one Chromium per module, a fresh context per test.

Playwright's sync API keeps an event loop running in the thread while it is started, and the
rest of the suite calls ``asyncio.run``: so the browser lives for one module at a time and
browser test modules hold only synchronous tests.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from browserkit import CHROMIUM, DESKTOP, launch

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, Page

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium through Playwright (``make test`` installs the package if missing).

    One per module: Playwright's sync API runs its own event loop while it is open, and that
    loop must be gone before the asyncio tests of later modules start theirs.
    """
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing in CI: `make system` installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed; run `make system`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        opened = launch(playwright)
        try:
            yield opened
        finally:
            opened.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context (no cookies) at desktop width."""
    context = browser.new_context(viewport=DESKTOP)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where a test saves its screenshots (``KASSA_SCREENSHOTS`` overrides, e.g. docs/)."""
    return Path(os.environ.get("KASSA_SCREENSHOTS", tmp_path / "screenshots"))
