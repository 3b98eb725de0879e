"""The dashboard in Chromium: an operator's day, CSRF, small and large screens, keyboard.

One server (SQLite) and one real webhook receiver per module. The main test does what the
issue lists in order: log in, find a payment by last4, open it, refund it, see
``payment_refunded`` in its timeline, replay it and see it arrive a second time, top up a
wallet, rotate a key and sign with the new one, read the audit log. Screenshots go to the
``screenshots`` folder (``KASSA_SCREENSHOTS=docs/dashboard`` refreshes the docs' pictures).
"""

from __future__ import annotations

import re
import shutil
import uuid
from typing import TYPE_CHECKING

import pytest

from browserkit import DESKTOP, PHONE, screenshot
from dashboard_kit import paid_session, password_of
from dashboard_kit import session_status_ok as signed_ok
from kassa.adapters.keys import generate_private_key, public_pem
from testkit import KassaServer, ProjectHandle, wait_for
from widget_kit import run

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Browser, Page

    from webhook_receiver import Receiver

CARD = "5555555555554444"


@pytest.fixture(scope="module")
def kassa(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KassaServer]:
    """A server on a copy of the migrated SQLite database, delivering webhooks quickly."""
    folder = tmp_path_factory.mktemp("dashboard")
    shutil.copy(sqlite_template, folder / "kassa.sqlite3")
    server = KassaServer(
        f"sqlite:///{folder / 'kassa.sqlite3'}",
        folder,
        KASSA_WORKER_POLL_SECONDS="0.05",
        KASSA_PROJECT_CACHE_SECONDS="0",
    ).start()
    yield server
    server.stop()


def log_in(page: Page, kassa: KassaServer) -> None:
    """Open the dashboard, be sent to the login page, log in with the printed password."""
    page.goto(f"{kassa.base_url}/dashboard")
    assert "/dashboard/login" in page.url
    page.get_by_label("Password").fill(password_of(kassa))
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Overview").wait_for()


def confirm(page: Page) -> None:
    """Press the confirmation page's button."""
    page.locator("#confirm").click()


def test_an_operators_day(
    page: Page, kassa: KassaServer, receiver: Receiver, screenshots: Path
) -> None:
    """Find by last4, refund, see the webhook, replay it, top up, rotate a key, audit log."""
    tag = uuid.uuid4().hex
    project, sid = run(paid_session(kassa, webhook_url=receiver.url(tag), number=CARD))
    log_in(page, kassa)
    screenshot(page, screenshots, "overview-desktop")

    page.get_by_role("link", name="Sessions").click()
    page.get_by_label("Search").fill(CARD[-4:])
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=sid).wait_for()
    assert page.locator("#sessions tbody tr").count() == 1
    screenshot(page, screenshots, "sessions-search-last4")
    page.get_by_role("link", name=sid).click()
    page.get_by_role("heading", name=f"Session {sid}").wait_for()
    assert "MASTERCARD •••• 4444" in page.locator(".instrument").first.inner_text()

    page.get_by_role("button", name="Refund").click()
    page.get_by_role("heading", name="Refund the payment?").wait_for()
    screenshot(page, screenshots, "confirm-refund")
    confirm(page)
    page.get_by_role("status").wait_for()
    wait_for_sync(lambda: "payment_refunded" in receiver.types(sid))
    page.reload()
    timeline = page.locator("#timeline-list").inner_text()
    assert "payment_refunded" in timeline
    screenshot(page, screenshots, "session-desktop")

    replay = page.get_by_role("button", name=re.compile(r"Replay webhook #\d+ payment_refunded"))
    replay.click()
    confirm(page)
    page.get_by_role("status").wait_for()
    wait_for_sync(lambda: receiver.types(sid).count("payment_refunded") == 2)
    first, second = [r for r in receiver.for_session(sid) if r.json["type"] == "payment_refunded"]
    assert first.body == second.body

    page.goto(f"{kassa.base_url}/dashboard/projects/{project.id}")
    page.get_by_label("Amount (minor units)").fill("50000")
    page.get_by_role("button", name="Top up…").click()
    confirm(page)
    page.get_by_role("status").wait_for()
    assert "500.00 USD" in page.locator("#balances").inner_text()

    new_key = generate_private_key()
    page.get_by_label("New public key (PEM)").fill(public_pem(new_key))
    page.get_by_role("button", name="Add key…").click()
    confirm(page)
    page.get_by_role("status").wait_for()
    assert page.locator("#key-list li").count() == 2
    assert run(signed_ok(kassa, ProjectHandle(project.id, new_key)))
    screenshot(page, screenshots, "project-desktop")

    page.get_by_role("link", name="Audit log").click()
    actions = page.locator(".audit-action").all_inner_texts()
    for action in ("add_key", "topup", "replay", "refund"):
        assert action in actions, actions
    screenshot(page, screenshots, "audit-desktop")


def wait_for_sync(predicate: object, timeout: float = 15) -> None:
    """``testkit.wait_for`` from a synchronous test."""

    async def check() -> bool:
        return bool(predicate())  # type: ignore[operator]

    run(wait_for(check, timeout))


def test_a_tampered_form_token_is_refused(page: Page, kassa: KassaServer) -> None:
    """A form whose token was altered in the page: 403 "Form refused", nothing done."""
    project, sid = run(paid_session(kassa))
    log_in(page, kassa)
    page.goto(f"{kassa.base_url}/dashboard/sessions/{sid}")
    page.locator("form:has(#act-refund) input[name=csrf]").evaluate("e => e.value = 'forged.0'")
    page.get_by_role("button", name="Refund").click()
    page.get_by_role("heading", name="Form refused").wait_for()
    assert "security token" in page.locator("#message").inner_text()
    page.goto(f"{kassa.base_url}/dashboard/sessions/{sid}")
    assert "refund started" not in page.locator("#timeline-list").inner_text()
    assert project.id


def test_phone_and_desktop_widths(browser: Browser, kassa: KassaServer, screenshots: Path) -> None:
    """At 375 px and 1280 px no page scrolls sideways; screenshots of each."""
    _, sid = run(paid_session(kassa))
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        try:
            log_in(page, kassa)
            for path, shot in (
                ("", "overview"),
                ("/sessions", "sessions"),
                (f"/sessions/{sid}", "session"),
            ):
                page.goto(f"{kassa.base_url}/dashboard{path}")
                wide = page.evaluate("document.documentElement.scrollWidth")
                assert wide <= viewport["width"], (name, path, wide)
                screenshot(page, screenshots, f"{shot}-{name}")
        finally:
            context.close()


def test_keyboard_focus_and_labels(page: Page, kassa: KassaServer) -> None:
    """Log in with the keyboard only; focus is visible; every field has a label."""
    page.goto(f"{kassa.base_url}/dashboard/login")
    assert page.evaluate("document.activeElement.id") == "password"  # autofocus
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(password_of(kassa))
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Overview").wait_for()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "(() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return [e.tagName, s.outlineStyle, s.outlineWidth]; })()"
    )
    assert focused[0] == "A"
    assert focused[1] != "none"
    assert focused[2] != "0px"
    for path in ("/sessions", "/projects"):
        page.goto(f"{kassa.base_url}/dashboard{path}")
        unlabelled = page.evaluate(
            "[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]"
            ".filter(e => !e.hidden && e.labels.length === 0).map(e => e.name)"
        )
        assert unlabelled == [], (path, unlabelled)
