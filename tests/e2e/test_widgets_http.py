"""The widget pages over real HTTP: headers, assets, and every "Bad input" line of the issue.

A real ``kassa serve`` per module and database (SQLite and PostgreSQL). Each refusal is a page
with a 4xx status and a clear message, and the tables a card would reach (vault, sessions,
ledger, outbox) keep exactly the rows they had before.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest

import widget_kit as kit
from testkit import KassaServer, SignedClient
from widget_kit import (
    CARD,
    SHOP,
    TOKENIZE,
    card_form,
    expire,
    field_errors,
    guarded_counts,
    issue,
    new_session,
    nonce,
    open_form,
    pay_token,
    token_info,
    widget_project,
)

if TYPE_CHECKING:
    from pathlib import Path

# The kit's fixtures, found by pytest under these names.
shop, pages = kit.shop, kit.pages


# --- pages: headers, assets -----------------------------------------------------------------


async def test_widget_pages_carry_the_security_headers(shop, pages):
    """Nonce CSP (every script has it, no inline handlers), frame-ancestors, no-store, nosniff."""
    token = await issue(shop, TOKENIZE)
    page = await pages.get("/widget/tokenize", params={"public_token": token})
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert f"frame-ancestors {SHOP} 'self'" in csp
    assert "default-src 'none'" in csp
    assert "script-src 'nonce-" in csp
    scripts = re.findall(r"<script[^>]*>", page.text)
    assert scripts
    assert all(f'nonce="{nonce(csp)}"' in tag and "src=" in tag for tag in scripts)
    assert not re.search(r"\son[a-z]+=", page.text)
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "https://" not in page.text.replace(SHOP, "")  # no third-party asset
    labels = set(re.findall(r'<label for="([a-z_]+)"', page.text))
    assert labels == {"number", "expiry", "cardholder_name"}


async def test_kassa_js_is_served_at_both_stable_urls(pages):
    """``/widget/kassa.js`` and ``/static/kassa.js``: the same file, as JavaScript."""
    widget = await pages.get("/widget/kassa.js")
    static = await pages.get("/static/kassa.js")
    assert widget.status_code == static.status_code == 200
    assert widget.content == static.content
    assert "javascript" in widget.headers["content-type"]
    assert widget.headers["x-content-type-options"] == "nosniff"
    assert b"mountTokenize" in widget.content
    assert b"mountPayment" in widget.content


# --- bad input: each a test; nothing vaulted or charged -------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        ({"number": "4242 4242 4242 4241"}, "number", "not valid"),
        ({"expiry": "01/20"}, "expiry", "expired"),
        ({"number": "4" * 20}, "number", "12 to 19 digits"),
        ({"number": "4242424242424241", "expiry": "13/30"}, "expiry", "MM/YY"),
    ],
)
async def test_a_bad_card_is_refused_on_the_page_and_not_vaulted(server, shop, pages, case):
    """Luhn, past expiry, 20 digits, bad month: 400, the field's message, no card stored."""
    changes, field, message = case
    token = await issue(shop, TOKENIZE)
    hidden = await open_form(pages, "/widget/tokenize", token)
    before = await guarded_counts(server.database_url)
    response = await pages.post("/widget/tokenize", data={**hidden, **card_form(**changes)})
    assert response.status_code == 400
    assert message in field_errors(response.text)[field]
    assert card_form(**changes)["number"].replace(" ", "") not in response.text
    assert await guarded_counts(server.database_url) == before
    assert (await token_info(shop, token))["is_active"] is True


async def test_empty_fields_are_each_named(server, shop, pages):
    """An empty pay form: number, expiry and CVC each get their message; nothing is charged."""
    sid = await new_session(shop)
    token = await pay_token(shop, sid)
    hidden = await open_form(pages, "/widget/pay", token)
    before = await guarded_counts(server.database_url)
    response = await pages.post("/widget/pay", data={**hidden, "number": "", "expiry": ""})
    assert response.status_code == 400
    assert set(field_errors(response.text)) == {"number", "expiry", "cvc"}
    assert "Please correct the highlighted fields." in response.text
    assert await guarded_counts(server.database_url) == before
    status = await shop.ok("session/status", {"session_id": sid})
    assert status["session"]["status"] == "created"


async def test_a_replayed_form_post_is_refused(server, shop, pages):
    """The first post vaults the card; the same post again is 410 and vaults nothing more."""
    token = await issue(shop, TOKENIZE)
    form = {**await open_form(pages, "/widget/tokenize", token), **card_form()}
    first = await pages.post("/widget/tokenize", data=form)
    assert first.status_code == 200
    assert "4242" in first.text
    assert CARD not in first.text
    after_first = await guarded_counts(server.database_url)
    replay = await pages.post("/widget/tokenize", data=form)
    assert replay.status_code == 410
    assert "already used" in replay.text
    assert await guarded_counts(server.database_url) == after_first
    info = await token_info(shop, token)
    assert (info["is_active"], info["brand"], info["last4"]) == (False, "visa", "4242")
    card = {"type": "card", "card": {"type": "encrypted_card", "encrypted_card": {}}}
    card["card"]["encrypted_card"]["number_hash"] = info["number_hash"]
    shown = (await shop.ok("token/info", card))["info"]
    assert (shown["brand"], shown["last4"]) == ("visa", "4242")


@pytest.mark.parametrize("form_token_value", [None, "", "0" * 64, "other"])
async def test_a_missing_or_wrong_form_token_is_403(server, shop, pages, form_token_value):
    """No form token, an empty or made-up one, or another token's: 403, nothing vaulted."""
    token = await issue(shop, TOKENIZE)
    hidden = await open_form(pages, "/widget/tokenize", token)
    if form_token_value is None:
        del hidden["form_token"]
    elif form_token_value == "other":
        hidden["form_token"] = (
            await open_form(pages, "/widget/tokenize", await issue(shop, TOKENIZE))
        )["form_token"]
    else:
        hidden["form_token"] = form_token_value
    before = await guarded_counts(server.database_url)
    response = await pages.post("/widget/tokenize", data={**hidden, **card_form()})
    assert response.status_code == 403
    assert "not sent from this page" in response.text
    assert await guarded_counts(server.database_url) == before


async def test_an_expired_token_shows_410_and_takes_no_card(server, shop, pages):
    """Past its expiry the page is 410 (GET and POST) and token/info says inactive."""
    token = await issue(shop, TOKENIZE)
    hidden = await open_form(pages, "/widget/tokenize", token)
    await expire(server.database_url, token)
    page = await pages.get("/widget/tokenize", params={"public_token": token})
    assert page.status_code == 410
    assert "expired" in page.text
    before = await guarded_counts(server.database_url)
    posted = await pages.post("/widget/tokenize", data={**hidden, **card_form()})
    assert posted.status_code == 410
    assert await guarded_counts(server.database_url) == before
    assert (await token_info(shop, token))["is_active"] is False


@pytest.mark.parametrize("kind", ["unknown", "other widget"])
async def test_an_unknown_or_other_widgets_token_is_404(shop, pages, kind):
    """A token never issued, or one issued for the tokenize widget used on the pay page: 404.

    A page for a token nobody issued says only that, so any page may frame it (and hear it).
    """
    token = "f" * 64 if kind == "unknown" else await issue(shop, TOKENIZE)
    page = await pages.get("/widget/pay", params={"public_token": token})
    assert page.status_code == 404
    assert "This link is not valid" in page.text
    assert "Traceback" not in page.text
    framers = "*" if kind == "unknown" else f"{SHOP} 'self'"  # nobody's token: anyone may frame
    assert f"frame-ancestors {framers};" in page.headers["content-security-policy"]


async def test_an_acquiring_token_for_a_finished_session_is_409(server, shop, pages):
    """The session was cancelled after the token was issued: 409 page, nothing charged."""
    sid = await new_session(shop)
    token = await pay_token(shop, sid)
    hidden = await open_form(pages, "/widget/pay", token)
    await shop.ok("session/cancel", {"session_id": sid})
    page = await pages.get("/widget/pay", params={"public_token": token})
    assert page.status_code == 409
    assert "already being processed or is finished" in page.text
    before = await guarded_counts(server.database_url)
    posted = await pages.post("/widget/pay", data={**hidden, **card_form()})
    assert posted.status_code == 409
    assert await guarded_counts(server.database_url) == before


async def test_a_used_acquiring_token_cannot_pay_again(server, shop, pages):
    """After one payment the token's page and posts are 410; one payment, one authorisation."""
    sid = await new_session(shop)
    token = await pay_token(shop, sid)
    form = {**await open_form(pages, "/widget/pay", token), **card_form()}
    paid = await pages.post("/widget/pay", data=form)
    assert paid.status_code == 303
    after = await guarded_counts(server.database_url)
    again = await pages.post("/widget/pay", data=form)
    assert again.status_code == 410
    page = await pages.get("/widget/pay", params={"public_token": token})
    assert page.status_code == 410
    assert await guarded_counts(server.database_url) == after
    session = (await shop.ok("session/status", {"session_id": sid}))["session"]
    assert len(session["acquiring_payments"]) == 1


async def test_a_tokenize_post_after_the_rate_limit_is_429(server, shop, pages):
    """Five refused cards use up the token's attempts; the sixth post, even valid, is 429."""
    token = await issue(shop, TOKENIZE)
    hidden = await open_form(pages, "/widget/tokenize", token)
    for _ in range(5):
        bad = await pages.post("/widget/tokenize", data={**hidden, **card_form(number="4" * 16)})
        assert bad.status_code == 400
    before = await guarded_counts(server.database_url)
    response = await pages.post("/widget/tokenize", data={**hidden, **card_form()})
    assert response.status_code == 429
    assert "Too many attempts" in response.text
    assert await guarded_counts(server.database_url) == before


async def test_an_oversized_form_is_413(shop, pages):
    """A form body over 8 KiB is refused before it is parsed."""
    token = await issue(shop, TOKENIZE)
    hidden = await open_form(pages, "/widget/tokenize", token)
    response = await pages.post("/widget/tokenize", data={**hidden, "x": "y" * 9000})
    assert response.status_code == 413


async def test_card_attempts_per_address_are_limited_across_tokens(
    module_database_url: str, tmp_path: Path
):
    """A server allowing 3 posts per address refuses the 4th, even with a fresh token."""
    server = KassaServer(
        module_database_url, tmp_path, KASSA_WORKER="0", KASSA_WIDGET_IP_ATTEMPTS="3"
    ).start()
    client = SignedClient(
        server.base_url, await widget_project(server.database_url, ("https://shop.example",))
    )
    try:
        async with httpx.AsyncClient(base_url=server.base_url) as pages:
            statuses = []
            for _ in range(4):
                token = await issue(client, TOKENIZE)
                hidden = await open_form(pages, "/widget/tokenize", token)
                form = {**hidden, **card_form(number="4242 4242 4242 4241")}
                statuses.append((await pages.post("/widget/tokenize", data=form)).status_code)
        assert statuses == [400, 400, 400, 429]
    finally:
        await client.aclose()
        server.stop()


# --- flows over HTTP: the 3DS page in a frame, nothing secret in logs --------------------------


async def test_the_3ds_step_may_be_framed_by_the_projects_origins(server, shop, pages):
    """Pay with the 3DS card: the result page sends to the 3DS page, which the shop may frame."""
    sid = await new_session(shop)
    token = await pay_token(shop, sid)
    form = {**await open_form(pages, "/widget/pay", token), **card_form(number="4000000000003220")}
    posted = await pages.post("/widget/pay", data={**form, "embed": "1"})
    assert posted.status_code == 303
    result = await pages.get(posted.headers["location"])
    assert result.status_code == 303
    three_ds = await pages.get(result.headers["location"])
    assert three_ds.status_code == 200
    assert f"frame-ancestors {SHOP}" in three_ds.headers["content-security-policy"]


async def test_no_card_number_or_cvc_reaches_the_log_or_a_reply(server, shop, pages):
    """After a payment and a tokenization the server log has neither the number nor the CVC."""
    sid = await new_session(shop)
    token = await pay_token(shop, sid)
    form: dict[str, Any] = {**await open_form(pages, "/widget/pay", token), **card_form()}
    form["cvc"] = "9731"
    paid = await pages.post("/widget/pay", data=form)
    result = await pages.get(paid.headers["location"])
    saved = await issue(shop, TOKENIZE)
    tokenized = await pages.post(
        "/widget/tokenize",
        data={**await open_form(pages, "/widget/tokenize", saved), **card_form()},
    )
    # the CVC as a value of its own: random hex, ids and timestamps may hold those digits
    cvc = re.compile(r"(?<![0-9A-Za-z.])9731(?![0-9A-Za-z.])")
    for text in (paid.text, result.text, tokenized.text):
        assert CARD not in text
        assert cvc.search(text) is None
    log = server.log()
    assert "widget_paid" in log
    assert "widget_tokenized" in log
    assert CARD not in log
    assert cvc.search(log) is None
    assert token not in log
