"""Card acquiring through the API on SQLite and PostgreSQL: test cards, confirm, cancel, 3DS.

Every test ends with the ledger check (the logic of ``kassa ledger check``).
"""

from __future__ import annotations

from typing import Any

import pytest

from acquiring_kit import BASE, Kassa, card, init_body


@pytest.mark.parametrize(
    ("number", "status", "session_status", "code", "webhook"),
    [
        ("4242424242424242", "pending", "in_progress", None, "ready_to_confirm"),
        ("5555555555554444", "pending", "in_progress", None, "ready_to_confirm"),
        ("4111111111111111", "pending", "in_progress", None, "ready_to_confirm"),
        ("4000000000003220", "pending", "in_progress", None, "action_required"),
        (
            "4000000000000002",
            "failed",
            "cancelled",
            "card_number_does_not_exist",
            "payment_finished",
        ),
        (
            "4000000000009995",
            "failed",
            "cancelled",
            "provider_exceeds_amount_limit",
            "payment_finished",
        ),
        ("4000000000000069", "failed", "cancelled", "bank_card_expired", "payment_finished"),
        ("4000000000000119", "failed", "cancelled", "provider_internal_error", "payment_finished"),
    ],
)
async def test_each_test_card_gets_its_documented_answer(  # noqa: PLR0917 - parametrised
    open_kassa: Any, number: str, status: str, session_status: str, code: str | None, webhook: str
) -> None:
    """init/payment answers each sandbox card as kassa.md §4 says, with the matching webhook."""
    kassa = await open_kassa()
    session = (await kassa.ok("session/init/payment", init_body(number)))["session"]
    payment = session["acquiring_payments"][0]
    assert payment["status"] == status
    assert session["status"] == session_status
    assert payment.get("error", {}).get("code") == code
    assert payment["payment_details"]["card"] == {
        "brand": "mastercard" if number.startswith("5") else "visa",
        "last4": number[-4:],
        "bin": number[:6],
    }
    assert await kassa.webhook_types(session["id"]) == [webhook]
    raw = str(await kassa.webhooks(session["id"])) + str(session)
    assert number not in raw
    assert "security_code" not in raw


async def test_luhn_invalid_card_is_invalid_request_and_nothing_is_stored(open_kassa: Any) -> None:
    """A number failing Luhn is 400 invalid_request naming the field; no session is created."""
    kassa = await open_kassa()
    description = await kassa.error(
        "session/init/payment", init_body("4242424242424241"), 400, "invalid_request"
    )
    assert "payment_details.card.bank_card.number" in description
    assert await kassa.store.count_sessions() == 0


async def test_past_expiry_fails_the_payment_as_expired(open_kassa: Any) -> None:
    """A good card with a past expiry ends failed with bank_card_expired."""
    kassa = await open_kassa()
    body = init_body() | {"payment_details": card(year="20")}
    payment = (await kassa.ok("session/init/payment", body))["session"]["acquiring_payments"][0]
    assert payment["error"]["code"] == "bank_card_expired"


async def test_confirm_captures_and_finishes_the_payment(open_kassa: Any) -> None:
    """Pending (ready_to_confirm) → confirm → succeeded, session accepted, payment_finished."""
    kassa = await open_kassa()
    session = (await kassa.ok("session/init/payment", init_body()))["session"]
    assert session["next_action"] == "confirm"
    done = (await kassa.ok("session/confirm", {"session_id": session["id"]}))["session"]
    payment = done["acquiring_payments"][0]
    assert (done["status"], payment["status"]) == ("accepted", "succeeded")
    assert "next_action" not in done
    assert set(payment["transaction_info"]) == {"rrn", "auth_code"}
    assert "finished_at" in payment
    assert await kassa.webhook_types(session["id"]) == ["ready_to_confirm", "payment_finished"]
    assert await kassa.balances() == {"payer_funds": -10000, "merchant_balance": 10000}


async def test_confirm_twice_is_invalid_session_status_and_changes_nothing(open_kassa: Any) -> None:
    """A second confirm is 409 and the session is unchanged."""
    kassa = await open_kassa()
    session = (await kassa.ok("session/init/payment", init_body()))["session"]
    await kassa.ok("session/confirm", {"session_id": session["id"]})
    before = await kassa.session(session["id"])
    await kassa.error(
        "session/confirm", {"session_id": session["id"]}, 409, "invalid_session_status"
    )
    assert await kassa.session(session["id"]) == before


async def test_cancel_after_ready_to_confirm_fails_payment_and_releases_hold(
    open_kassa: Any,
) -> None:
    """Cancel → payment failed (cancelled), session cancelled, hold back to the payer."""
    kassa = await open_kassa()
    session = (await kassa.ok("session/init/payment", init_body()))["session"]
    done = (await kassa.ok("session/cancel", {"session_id": session["id"]}))["session"]
    assert done["status"] == "cancelled"
    assert done["acquiring_payments"][0]["error"]["code"] == "cancelled"
    assert await kassa.balances() == {}
    await kassa.error(
        "session/confirm", {"session_id": session["id"]}, 409, "invalid_session_status"
    )


async def test_auto_confirm_project_skips_ready_to_confirm(open_kassa: Any) -> None:
    """With auto_confirm the payment succeeds within init and only payment_finished is sent."""
    kassa = await open_kassa(auto_confirm=True)
    session = (await kassa.ok("session/init/payment", init_body()))["session"]
    assert session["status"] == "accepted"
    assert session["acquiring_payments"][0]["status"] == "succeeded"
    assert await kassa.webhook_types(session["id"]) == ["payment_finished"]


async def test_start_payment_on_created_session_lets_start_values_win(open_kassa: Any) -> None:
    """Fields from create may be omitted at start; given again, the start values win."""
    kassa = await open_kassa()
    created = await kassa.ok(
        "session/create",
        {
            "amount_details": {"amount": 500, "currency": "usd"},
            "customer": {"reference": "from-create"},
            "metadata": "create",
        },
    )
    sid = created["session"]["id"]
    started = await kassa.ok(
        "session/start/payment",
        {
            "session_id": sid,
            "payment_details": card(),
            "amount_details": {"amount": 700, "currency": "usd"},
        },
    )
    payment = started["session"]["acquiring_payments"][0]
    assert payment["amount_details"] == {"amount": 700, "currency": "usd"}
    assert payment["customer"] == {"reference": "from-create", "contacts": []}
    assert payment["metadata"] == "create"
    await kassa.error("session/start/payment", {"session_id": sid}, 409, "invalid_session_status")


async def test_card_given_at_create_is_charged_from_the_vault(open_kassa: Any) -> None:
    """A bank_card given at create is vaulted; start needs only the session id."""
    kassa = await open_kassa()
    created = await kassa.ok("session/create", init_body("4000000000000002"))
    started = await kassa.ok("session/start/payment", {"session_id": created["session"]["id"]})
    payment = started["session"]["acquiring_payments"][0]
    assert payment["error"]["code"] == "card_number_does_not_exist"


@pytest.mark.parametrize(
    ("drop", "field"),
    [
        ("amount_details", "amount_details"),
        ("payment_details", "payment_details"),
        ("customer", "customer.reference"),
    ],
)
async def test_missing_mandatory_data_is_invalid_request_naming_the_field(
    open_kassa: Any, drop: str, field: str
) -> None:
    """Init without amount, instrument or customer.reference → invalid_request naming it."""
    kassa = await open_kassa()
    body = {k: v for k, v in init_body().items() if k != drop}
    description = await kassa.error("session/init/payment", body, 400, "invalid_request")
    assert description.startswith(field)
    assert await kassa.store.count_sessions() == 0


async def test_start_on_cancelled_session_is_invalid_session_status(open_kassa: Any) -> None:
    """A cancelled session cannot start a payment."""
    kassa = await open_kassa()
    sid = (await kassa.ok("session/create", {}))["session"]["id"]
    cancelled = await kassa.ok("session/cancel", {"session_id": sid})
    assert cancelled["session"]["status"] == "cancelled"
    await kassa.error(
        "session/start/payment", {"session_id": sid, **init_body()}, 409, "invalid_session_status"
    )


async def test_init_payment_honours_the_idempotency_key(open_kassa: Any) -> None:
    """The same key and body replay the first answer; one session, one authorisation."""
    kassa = await open_kassa()
    first = await kassa.post("session/init/payment", init_body(), idempotency_key="k1")
    second = await kassa.post("session/init/payment", init_body(), idempotency_key="k1")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert await kassa.store.count_sessions() == 1


async def test_v2_session_lists_payments_in_payment_list(open_kassa: Any) -> None:
    """On /api/v2 the payments are ``payment_list``."""
    kassa = await open_kassa()
    session = (await kassa.ok("session/init/payment", init_body(), version="v2"))["session"]
    assert session["payment_list"][0]["status"] == "pending"
    assert "acquiring_payments" not in session


async def _three_ds(kassa: Kassa, result: str, return_url: str | None = None) -> dict[str, Any]:
    options = {"payment_options": {"return_url": return_url}} if return_url else {}
    session = (await kassa.ok("session/init/payment", init_body("4000000000003220", **options)))[
        "session"
    ]
    redirect = session["acquiring_payments"][0]["customer_interaction"]["redirect"]
    assert redirect["url"].startswith(f"{BASE}/3ds/")
    page = await kassa.http.get(redirect["url"])
    assert page.status_code == 200
    assert "Pass" in page.text
    posted = await kassa.http.post(
        redirect["base_url"].removeprefix(BASE),
        data={"token": redirect["qs"]["token"], "result": result},
    )
    if return_url:
        assert posted.status_code == 303
        assert posted.headers["location"] == return_url
    else:
        assert posted.status_code == 200
    return await kassa.session(session["id"])


async def test_3ds_pass_continues_to_ready_to_confirm(open_kassa: Any) -> None:
    """Passing the challenge re-authorises: ready_to_confirm, then confirm succeeds."""
    kassa = await open_kassa()
    session = await _three_ds(kassa, "pass", return_url="https://shop.example/back")
    assert session["next_action"] == "confirm"
    assert await kassa.webhook_types(session["id"]) == ["action_required", "ready_to_confirm"]
    done = await kassa.ok("session/confirm", {"session_id": session["id"]})
    assert done["session"]["status"] == "accepted"


async def test_3ds_fail_ends_the_payment_with_3ds_error(open_kassa: Any) -> None:
    """Failing the challenge: payment failed 3DS_error, session cancelled, payment_finished."""
    kassa = await open_kassa()
    session = await _three_ds(kassa, "fail")
    assert session["status"] == "cancelled"
    assert session["acquiring_payments"][0]["error"]["code"] == "3DS_error"
    assert await kassa.webhook_types(session["id"]) == ["action_required", "payment_finished"]


async def test_3ds_page_with_wrong_token_shows_nothing(open_kassa: Any) -> None:
    """A guessed token gets 404 and the payment stays pending."""
    kassa = await open_kassa()
    session = (await kassa.ok("session/init/payment", init_body("4000000000003220")))["session"]
    payment_id = session["acquiring_payments"][0]["id"]
    assert (await kassa.http.get(f"/3ds/{payment_id}?token=guess")).status_code == 404
    posted = await kassa.http.post(f"/3ds/{payment_id}", data={"token": "guess", "result": "pass"})
    assert posted.status_code == 404
    assert (await kassa.session(session["id"]))["acquiring_payments"][0]["status"] == "pending"


async def test_no_card_number_or_cvc_is_stored_in_clear(open_kassa: Any) -> None:
    """After payments, refunds and webhooks no row holds the number or the CVC field."""
    kassa = await open_kassa(auto_confirm=True)
    number = "5555555555554444"
    body = init_body(number, payment_options={"recurrent": True})
    session = (await kassa.ok("session/init/payment", body, idempotency_key="pan-check"))["session"]
    await kassa.ok("session/refund", {"session_id": session["id"]})
    driver = kassa.store.driver
    dumps: list[str] = []
    for table, columns in (
        ("sessions", "doc"),
        ("outbox", "body"),
        ("idempotency_keys", "response_body"),
        ("vault_cards", "card"),
        ("recurrent_tokens", "number_hash"),
        ("ledger_postings", "account"),
    ):
        for row in await driver.fetch(f"SELECT {columns} FROM {table}"):
            value = row[0]
            dumps.append(
                bytes(value).decode() if isinstance(value, bytes | memoryview) else str(value)
            )
    text = "\n".join(dumps)
    assert number[-4:] in text
    assert number not in text
    assert "security_code" not in text


async def test_openapi_documents_the_acquiring_methods(open_kassa: Any) -> None:
    """/openapi.json lists every acquiring method with its request schema."""
    kassa = await open_kassa()
    schema = (await kassa.http.get("/openapi.json")).json()
    for path in (
        "/api/v1/session/init/payment",
        "/api/v2/session/start/payment",
        "/api/v1/session/confirm",
        "/api/v2/session/cancel",
        "/api/v1/session/capture",
        "/api/v1/session/refund",
        "/api/v1/recurrent/disable",
        "/api/v1/recurrent/status",
        "/api/v1/token/info",
    ):
        assert path in schema["paths"], path
    assert "PaymentInitRequest" in schema["components"]["schemas"]


async def test_start_without_data_from_create_names_the_missing_field(open_kassa: Any) -> None:
    """start/payment on a session created empty: the missing field is named, nothing changes."""
    kassa = await open_kassa()
    sid = (await kassa.ok("session/create", {"customer": {"reference": "c"}}))["session"]["id"]
    before = await kassa.session(sid)
    body = {"session_id": sid, "payment_details": card()}
    description = await kassa.error("session/start/payment", body, 400, "invalid_request")
    assert description == "amount_details: required (not given at session/create either)"
    assert await kassa.session(sid) == before


async def test_card_from_create_without_expiry_cannot_be_charged(open_kassa: Any) -> None:
    """A card given at create without expiry (fine for a payout) is refused at start/payment."""
    kassa = await open_kassa()
    number = {"number": "4242424242424242"}
    body = init_body() | {
        "payment_details": {"type": "card", "card": {"type": "bank_card", "bank_card": number}}
    }
    sid = (await kassa.ok("session/create", body))["session"]["id"]
    description = await kassa.error(
        "session/start/payment", {"session_id": sid}, 400, "invalid_request"
    )
    assert description.startswith("payment_details.card.bank_card.expiration_month")
    assert (await kassa.session(sid))["status"] == "created"
    started = await kassa.ok("session/start/payment", {"session_id": sid, **init_body()})
    assert started["session"]["acquiring_payments"][0]["status"] == "pending"


async def test_a_card_seen_later_with_expiry_can_be_charged_by_its_hash(open_kassa: Any) -> None:
    """Vaulted first without expiry (create), then with it (a payment): the hash is chargeable."""
    kassa = await open_kassa()
    number = {"number": "4242424242424242"}
    bare = init_body() | {
        "payment_details": {"type": "card", "card": {"type": "bank_card", "bank_card": number}}
    }
    await kassa.ok("session/create", bare)
    await kassa.ok("session/init/payment", init_body())
    number_hash = kassa.deps.vault.number_hash(kassa.project.id, "4242424242424242")
    by_hash = init_body() | {
        "payment_details": {
            "type": "card",
            "card": {"type": "encrypted_card", "encrypted_card": {"number_hash": number_hash}},
        },
    }
    session = (await kassa.ok("session/init/payment", by_hash))["session"]
    assert session["acquiring_payments"][0]["status"] == "pending"
