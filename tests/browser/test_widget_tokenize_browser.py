"""Tokenizing a card in Chromium, expired tokens, the phone width, contrast and the demo page.

The tokenization widget runs inside a merchant page on another origin and hands the hash over
by ``postMessage``; ``token/info`` then knows the card. Every test saves screenshots.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import widget_scene as scene
from browserkit import PHONE, screenshot
from payout_kit import payout_body, payouts_of, vaulted
from widget_kit import CARD, expire, fund, run, wait_until, widget_project
from widget_scene import fill_card, frame_of, text_of

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Browser, Page

    from testkit import KassaServer
    from widget_scene import Scene

# The scene's fixtures, found by pytest under these names.
kassa, receiver, merchant, shop = scene.kassa, scene.receiver, scene.merchant, scene.shop


# --- tokenization ----------------------------------------------------------------------------


def test_tokenize_in_a_cross_origin_frame_hands_the_hash_by_post_message(
    page: Page, kassa: KassaServer, shop: Scene, screenshots: Path
):
    """The shop (another origin) gets ``{number_hash, brand, last4}``; token/info knows it.

    Then the shop pays out to the card by its hash alone (``encrypted_card``), as the seed says.
    """
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
    run(fund(kassa.database_url, shop.api.project.id, 5000))
    started = shop.api.ok("session/init/payout", payout_body(vaulted(card["number_hash"]), 1500))
    sid = started["session"]["id"]
    shop.api.ok("session/confirm", {"session_id": sid})
    [payout] = wait_until(lambda: _finished_payouts(shop, sid))
    assert payout["status"] == "succeeded"
    assert payout["payment_method"]["card"]["last4"] == "4242"
    assert "payment_finished" in scene.webhook_types(shop.receiver, sid, 2)


def _finished_payouts(shop: Scene, session_id: str) -> list[dict[str, object]] | None:
    payouts = payouts_of(shop.api.status(session_id))
    return payouts if payouts and payouts[0]["status"] != "pending" else None


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


# --- access: phone, contrast, Russian -------------------------------------------------------


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
