"""Browser tests: Playwright for Python driving Debian's Chromium (never ``playwright install``).

The sync API, one browser per test module, a fresh context (cookies, storage) per test.
Screenshots go to ``SCREENSHOTS`` (pytest's tmp dir unless ``KASSA_SCREENSHOTS`` names a
folder, e.g. ``docs/widgets`` when refreshing the pictures in the docs).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = os.environ.get("KASSA_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, no background traffic (Playwright uses a fresh profile)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


def screenshot(page: Page, folder: Path, name: str) -> Path:
    """Save a full-page PNG as ``folder/name.png``; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
