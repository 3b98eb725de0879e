"""Debian's Chromium 156 under Playwright 1.65 (built for a newer Chromium) still works."""

from __future__ import annotations

from typing import TYPE_CHECKING

from browserkit import screenshot
from testkit import KassaServer

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Page


def test_the_browser_renders_a_kassa_page_with_its_stylesheet(
    page: Page, sqlite_url: str, tmp_path: Path, screenshots: Path
) -> None:
    """The 404 3DS page loads with kassa's CSS applied, under kassa's strict CSP."""
    server = KassaServer(sqlite_url, tmp_path, KASSA_WORKER="0").start()
    try:
        response = page.goto(f"{server.base_url}/3ds/pm_nothing?token=x")
        assert response is not None
        assert response.status == 404
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert page.locator("h1").inner_text() == "3-D Secure"
        background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        assert background == "rgb(243, 245, 248)"  # --wash from kassa.css: the sheet loaded
        assert screenshot(page, screenshots, "browser-smoke").stat().st_size > 1000
    finally:
        server.stop()
