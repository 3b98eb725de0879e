"""Paying a session through the widget in Chromium: each test card ends where it should.

Approved, waiting for the merchant's confirm, the 3DS card passed inside the shop's frame and
failed, a declined card through kassa.js's redirect, the result page, keyboard-only: each
checks the page it ends on, the webhooks at the real receiver and ``session/status``. Every
test saves screenshots (``KASSA_SCREENSHOTS=docs/widgets`` refreshes the docs' pictures).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import widget_scene as scene
from browserkit import screenshot
from widget_kit import CARD
from widget_scene import fill_card, frame_of, returns, text_of, webhook_types

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Page

    from widget_scene import Scene

# The scene's fixtures, found by pytest under these names.
kassa, receiver, merchant, shop = scene.kassa, scene.receiver, scene.merchant, scene.shop


# --- payments: each card, each ending -------------------------------------------------------


@pytest.mark.parametrize("shop", [{"auto_confirm": True}], indirect=True)
def test_pay_with_4242_redirects_to_success(page: Page, shop: Scene, screenshots: Path):
    """Approved card: the success URL, ``payment_finished``, session ``accepted``."""
    sid = shop.api.session()
    token = shop.api.token({"acquiring_widget": {"session_id": sid, **returns(shop.merchant)}})
    page.goto(f"{shop.kassa}/widget/pay?public_token={token}")
    assert "$100.00" in page.locator("[data-kassa-amount]").inner_text()
    fill_card(page, CARD)
    screenshot(page, screenshots, "pay-desktop")
    page.locator("button[type=submit]").click()
    page.wait_for_url(shop.merchant.url("/success"))
    screenshot(page, screenshots, "pay-success-redirect")
    assert webhook_types(shop.receiver, sid, 1) == ["payment_finished"]
    session = shop.api.status(sid)
    assert session["status"] == "accepted"
    assert session["acquiring_payments"][0]["status"] == "succeeded"


def test_pay_waits_for_the_merchants_confirm_then_redirects(
    page: Page, shop: Scene, screenshots: Path
):
    """Default project: the customer waits on a self-refreshing page until the shop confirms."""
    sid = shop.api.session()
    token = shop.api.token({"acquiring_widget": {"session_id": sid, **returns(shop.merchant)}})
    page.goto(f"{shop.kassa}/widget/pay?public_token={token}")
    fill_card(page, CARD)
    page.locator("button[type=submit]").click()
    page.get_by_role("heading", name="Payment processing").wait_for()
    screenshot(page, screenshots, "pay-waiting")
    assert webhook_types(shop.receiver, sid, 1) == ["ready_to_confirm"]
    shop.api.ok("session/confirm", {"session_id": sid})
    page.wait_for_url(shop.merchant.url("/success"))
    assert webhook_types(shop.receiver, sid, 2) == ["ready_to_confirm", "payment_finished"]
    assert shop.api.status(sid)["status"] == "accepted"


@pytest.mark.parametrize("shop", [{"auto_confirm": True}], indirect=True)
def test_3ds_pass_inside_the_merchants_frame_reports_success(
    page: Page, shop: Scene, screenshots: Path
):
    """3DS card in the embedded widget: the 3DS page opens in the frame; Pass → ``onResult``."""
    sid = shop.api.session()
    token = shop.api.token({"acquiring_widget": {"session_id": sid, **returns(shop.merchant)}})
    page.goto(shop.merchant.url("/pay", token))
    widget = frame_of(page)
    fill_card(widget, "4000000000003220")
    widget.locator("button[type=submit]").click()
    widget.get_by_role("heading", name="3-D Secure").wait_for()
    screenshot(page, screenshots, "pay-3ds-in-frame")
    widget.get_by_role("button", name="Pass").click()
    result = text_of(page.locator("#out"))
    assert result == {
        "status": "succeeded",
        "session_id": sid,
        "redirect_url": shop.merchant.url("/success"),
    }
    screenshot(page, screenshots, "pay-3ds-passed")
    assert webhook_types(shop.receiver, sid, 2) == ["action_required", "payment_finished"]
    assert shop.api.status(sid)["status"] == "accepted"


def test_3ds_fail_redirects_to_failure(page: Page, shop: Scene, screenshots: Path):
    """3DS card, the customer fails the challenge: the failure URL, ``3DS_error``, cancelled."""
    sid = shop.api.session()
    token = shop.api.token({"acquiring_widget": {"session_id": sid, **returns(shop.merchant)}})
    page.goto(f"{shop.kassa}/widget/pay?public_token={token}")
    fill_card(page, "4000000000003220")
    page.locator("button[type=submit]").click()
    page.get_by_role("button", name="Fail").wait_for()
    screenshot(page, screenshots, "pay-3ds-page")
    page.get_by_role("button", name="Fail").click()
    page.wait_for_url(shop.merchant.url("/failure"))
    assert webhook_types(shop.receiver, sid, 2) == ["action_required", "payment_finished"]
    session = shop.api.status(sid)
    assert session["status"] == "cancelled"
    assert session["acquiring_payments"][0]["error"]["code"] == "3DS_error"


def test_declined_card_redirects_to_failure(page: Page, shop: Scene, screenshots: Path):
    """Declined card through kassa.js without ``onResult``: the shop's page goes to failure."""
    sid = shop.api.session()
    token = shop.api.token({"acquiring_widget": {"session_id": sid, **returns(shop.merchant)}})
    page.goto(shop.merchant.url("/pay-redirect", token))
    widget = frame_of(page)
    fill_card(widget, "4000000000000002")
    widget.locator("button[type=submit]").click()
    page.wait_for_url(shop.merchant.url("/failure"))
    screenshot(page, screenshots, "pay-declined-redirect")
    assert webhook_types(shop.receiver, sid, 1) == ["payment_finished"]
    session = shop.api.status(sid)
    assert session["status"] == "cancelled"
    assert session["acquiring_payments"][0]["error"]["code"] == "card_number_does_not_exist"


def test_without_return_urls_the_widget_shows_the_result_page(
    page: Page, shop: Scene, screenshots: Path
):
    """No success URL: a result page; the recurrent checkbox issues a recurrent token."""
    sid = shop.api.session()
    widget = {"session_id": sid, "show_recurrent_checkbox": "true", "success_on_hold": True}
    token = shop.api.token({"acquiring_widget": widget})
    page.goto(f"{shop.kassa}/widget/pay?public_token={token}")
    fill_card(page, CARD)
    page.get_by_label("Save this card for future payments").check()
    page.locator("button[type=submit]").click()
    page.get_by_role("heading", name="Payment successful").wait_for()
    screenshot(page, screenshots, "pay-result-page")
    shop.api.ok("session/confirm", {"session_id": sid})
    payment = shop.api.status(sid)["acquiring_payments"][0]
    assert payment["payment_options"]["recurrent"] is True
    assert payment["recurrent"]["token"]


@pytest.mark.parametrize("shop", [{"auto_confirm": True}], indirect=True)
def test_keyboard_only_completion(page: Page, shop: Scene, screenshots: Path):
    """Tab through labelled fields with a visible focus ring, type, and submit by keyboard."""
    sid = shop.api.session()
    token = shop.api.token({"acquiring_widget": {"session_id": sid, **returns(shop.merchant)}})
    page.goto(f"{shop.kassa}/widget/pay?public_token={token}")
    keys = page.keyboard
    typed = {"number": CARD, "expiry": "1239", "cvc": "737", "cardholder_name": "Helen Adams"}
    for field, text in typed.items():
        keys.press("Tab")
        assert page.evaluate("document.activeElement.id") == field
        ring = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, s.outlineWidth]; })()"
        )
        assert ring == ["solid", "3px"], field
        keys.type(text)
    keys.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    screenshot(page, screenshots, "pay-keyboard-focus")
    keys.press("Enter")
    page.wait_for_url(shop.merchant.url("/success"))
    assert shop.api.status(sid)["status"] == "accepted"
