"""The card widgets in Debian's Chromium: embedded cross-origin, standalone, 3DS, phone, keyboard.

One real ``kassa serve`` (SQLite, in-process webhook worker), a real webhook receiver, and a
merchant shop on another port (``merchant_site.py``, its own origin, the project's allowed
origin) that embeds kassa with ``kassa.js``. Every test saves screenshots (``screenshots``
fixture; ``KASSA_SCREENSHOTS=docs/widgets`` refreshes the documentation's pictures).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from browserkit import PHONE, screenshot
from merchant_site import MerchantSite
from testkit import KassaServer
from webhook_receiver import Receiver
from widget_kit import CARD, SyncClient, expire, run, wait_until, widget_project

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Browser, FrameLocator, Locator, Page


@pytest.fixture(scope="module")
def kassa(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KassaServer]:
    """A real server on a copy of the migrated SQLite database, delivering webhooks."""
    folder = tmp_path_factory.mktemp("widgets")
    shutil.copy(sqlite_template, folder / "kassa.sqlite3")
    server = KassaServer(
        f"sqlite:///{folder / 'kassa.sqlite3'}", folder, KASSA_WORKER_POLL_SECONDS="0.05"
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """The merchant's webhook endpoint."""
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def merchant(kassa: KassaServer) -> Iterator[MerchantSite]:
    """The merchant's shop on its own origin."""
    site = MerchantSite(kassa.base_url)
    yield site
    site.stop()


@dataclass
class Scene:
    """One test's world: the merchant's API client, kassa, the shop's site, its receiver."""

    api: SyncClient
    kassa: str
    merchant: MerchantSite
    receiver: Receiver

    def widget(self, path: str, token: str) -> str:
        """A kassa widget page opened directly (not embedded)."""
        return f"{self.kassa}{path}?public_token={token}"


@pytest.fixture
def shop(kassa, receiver, merchant, request) -> Iterator[Scene]:
    """A project of the merchant: its origin may embed the widgets, webhooks go to the receiver.

    ``@pytest.mark.parametrize("shop", [{...settings}], indirect=True)`` sets its settings.
    """
    settings: dict[str, bool] = getattr(request, "param", {})
    handle = run(
        widget_project(
            kassa.database_url,
            (merchant.origin,),
            webhook_url=receiver.url(request.node.name[:40]),
            **settings,
        )
    )
    client = SyncClient(kassa.base_url, handle)
    yield Scene(client, kassa.base_url, merchant, receiver)
    client.close()


def returns(merchant: MerchantSite) -> dict[str, str]:
    """The acquiring widget's return URLs on the merchant's site."""
    return {
        "success_return_url": merchant.url("/success"),
        "failure_return_url": merchant.url("/failure"),
    }


def fill_card(
    form: Page | FrameLocator, number: str, *, cvc: str | None = "737", name: str = "Helen Adams"
) -> None:
    """Type the card as a customer does (key by key, so the live checks run)."""
    form.locator("#number").press_sequentially(number)
    form.locator("#expiry").press_sequentially("1239")
    if cvc is not None:
        form.locator("#cvc").press_sequentially(cvc)
    form.locator("#cardholder_name").fill(name)


def webhook_types(receiver: Receiver, session_id: str, count: int) -> list[str]:
    """The session's webhook types once ``count`` have arrived."""
    return wait_until(
        lambda: len(receiver.types(session_id)) >= count and receiver.types(session_id)
    )


def frame_of(page: Page) -> FrameLocator:
    """The kassa widget's frame on the merchant's page."""
    return page.frame_locator("iframe")


def text_of(locator: Locator) -> dict[str, Any]:
    """The JSON a merchant page's callback wrote into an element."""
    locator.filter(has_text="{").wait_for()
    found: dict[str, Any] = json.loads(locator.inner_text())
    return found


# --- tokenization ----------------------------------------------------------------------------


def test_tokenize_in_a_cross_origin_frame_hands_the_hash_by_post_message(
    page: Page, shop: Scene, screenshots: Path
):
    """The shop (another origin) gets ``{number_hash, brand, last4}``; token/info knows it."""
    token = shop.api.token({"tokenize_widget": {"access": True}})
    page.goto(shop.merchant.url("/tokenize", token))
    widget = frame_of(page)
    number = widget.locator("#number")
    number.press_sequentially("4242424242424241")
    assert "not valid" in widget.locator("#number-error").inner_text()  # live Luhn check
    assert number.get_attribute("aria-invalid") == "true"
    number.fill("")
    fill_card(widget, CARD, cvc=None)
    assert number.input_value() == "4242 4242 4242 4242"
    assert widget.locator("[data-kassa-brand]").inner_text() == "Visa"
    assert widget.locator("#number-error").inner_text() == ""
    screenshot(page, screenshots, "tokenize-embedded")
    widget.locator("button[type=submit]").click()
    card = text_of(page.locator("#out"))
    assert set(card) == {"number_hash", "brand", "last4"}
    assert (card["brand"], card["last4"]) == ("visa", "4242")
    assert page.evaluate("location.origin") == shop.merchant.origin != shop.kassa
    screenshot(page, screenshots, "tokenize-embedded-done")
    body = {"type": "card", "card": {"type": "encrypted_card", "encrypted_card": card}}
    body["card"]["encrypted_card"] = {"number_hash": card["number_hash"]}
    info = shop.api.ok("token/info", body)["info"]
    assert (info["brand"], info["last4"], info["number_hash"]) == (
        "visa",
        "4242",
        card["number_hash"],
    )
    public = shop.api.ok("token/info", {"type": "public_token", "public_token": {"token": token}})
    assert public["info"]["is_active"] is False
    assert public["info"]["number_hash"] == card["number_hash"]


def test_an_expired_token_shows_a_clear_page_and_calls_on_error(
    page: Page, kassa: KassaServer, shop: Scene, screenshots: Path
):
    """Standalone: a 410 page saying it expired; embedded: ``onError`` with the code."""
    token = shop.api.token({"tokenize_widget": {"access": True}})
    run(expire(kassa.database_url, token))
    response = page.goto(f"{shop.kassa}/widget/tokenize?public_token={token}")
    assert response is not None
    assert response.status == 410
    assert "This link has expired" in page.locator("[role=alert]").inner_text()
    screenshot(page, screenshots, "expired-token")
    page.goto(shop.merchant.url("/tokenize", token))
    error = text_of(page.locator("#err"))
    assert error["code"] == "public_token_expired"
    assert "expired" in error["message"]


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


# --- access: keyboard, phone, contrast, Russian -----------------------------------------------


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


def test_the_pages_fit_a_phone_and_read_in_russian(
    browser: Browser, shop: Scene, screenshots: Path
):
    """At 375 px nothing scrolls sideways; the Russian form shows the amount as 100,00 $."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2)
    try:
        phone = context.new_page()
        sid = shop.api.session()
        token = shop.api.token({"acquiring_widget": {"session_id": sid, "locale": "ru"}})
        phone.goto(f"{shop.kassa}/widget/pay?public_token={token}")
        assert phone.locator("html").get_attribute("lang") == "ru"
        assert phone.locator("[data-kassa-amount]").inner_text() == "100,00\xa0$"
        assert phone.get_by_label("Номер карты").is_visible()
        fill_card(phone, "4242424242424241")
        phone.locator("#cvc").focus()
        assert "недействителен" in phone.locator("#number-error").inner_text()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        box = phone.locator("button[type=submit]").bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
        screenshot(phone, screenshots, "pay-phone-ru")
        saving = shop.api.token({"tokenize_widget": {"access": True}})
        phone.goto(shop.merchant.url("/tokenize", saving))
        frame_of(phone).locator("#number").wait_for()
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(phone, screenshots, "tokenize-phone-embedded")
    finally:
        context.close()


_CONTRAST = """
(selectors) => {
  function rgb(text) { return text.match(/[\\d.]+/g).slice(0, 3).map(Number); }
  function lum(c) {
    const [r, g, b] = c.map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }
  function background(el) {
    for (; el; el = el.parentElement) {
      const bg = getComputedStyle(el).backgroundColor;
      if (bg && !bg.endsWith(", 0)") && bg !== "transparent") return rgb(bg);
    }
    return [255, 255, 255];
  }
  return selectors.map(sel => {
    const el = document.querySelector(sel);
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    return [sel, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });
}
"""


def test_text_meets_wcag_aa_contrast(page: Page, shop: Scene):
    """Labels, hints, errors, the amount and the primary button reach 4.5:1."""
    token = shop.api.token({"tokenize_widget": {"access": True}})
    page.goto(f"{shop.kassa}/widget/tokenize?public_token={token}")
    page.locator("button[type=submit]").click()  # empty form: the errors show
    page.locator("#number-error").filter(has_text="Enter").wait_for()
    selectors = ["h1", "label[for=number]", ".hint", "#number-error", "button.primary", ".muted"]
    ratios = dict(page.evaluate(_CONTRAST, selectors))
    assert all(ratio >= 4.5 for ratio in ratios.values()), ratios


# --- the demo shop ----------------------------------------------------------------------------


def test_the_demo_page_uses_kassa_js_for_both_flows(
    page: Page, kassa: KassaServer, screenshots: Path
):
    """``/demo`` mounts both widgets; a payment and a saved card reach its callbacks."""
    handle = run(widget_project(kassa.database_url))
    page.goto(f"{kassa.base_url}/demo?project_id={handle.id}")
    payment = page.frame_locator("#pay iframe")
    saving = page.frame_locator("#tokenize iframe")
    payment.locator("#number").wait_for()
    saving.locator("#number").wait_for()
    screenshot(page, screenshots, "demo")
    fill_card(payment, CARD)
    payment.locator("button[type=submit]").click()
    fill_card(saving, "5555555555554444", cvc=None)
    saving.locator("button[type=submit]").click()
    page.locator("#pay-result").filter(has_text="onResult").wait_for()
    page.locator("#token-result").filter(has_text="onToken").wait_for()
    assert "mastercard •••• 4444" in page.locator("#token-result").inner_text()
    screenshot(page, screenshots, "demo-done")
