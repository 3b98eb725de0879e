"""Payouts from the prefunded wallet, in-process on SQLite and PostgreSQL.

Reservation at start, ``ready_to_confirm``, confirm → the rail's outcome, cancel, timeout,
auto-confirm, create-then-start, several payouts in one session, FPS verification, the
balance read from the ledger, masking, idempotency. Every test ends with the ledger check
(reconciled with the processor's record) through the ``open_kassa`` fixture.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest

from acquiring_kit import Kassa, init_body
from kassa.service.timeouts import sweep_timeouts
from payout_kit import (
    FPS_PHONE,
    IBAN,
    MSISDN,
    RECIPIENT,
    account,
    card,
    fps,
    payout_body,
    payouts_of,
    wallet,
)
from testkit import table_counts


async def _start(k: Kassa, body: dict[str, Any], version: str = "v1") -> dict[str, Any]:
    return (await k.ok("session/init/payout", body, version=version))["session"]


async def test_a_card_payout_reserves_then_pays_on_confirm(open_kassa: Any) -> None:
    """Start: pending, ready_to_confirm, the wallet shows the rest; confirm: paid, settled."""
    k: Kassa = await open_kassa()
    await k.topup(5000)
    session = await _start(k, payout_body(amount=1200))
    [payout] = payouts_of(session)
    assert (session["status"], session["next_action"], payout["status"]) == (
        "in_progress",
        "confirm",
        "pending",
    )
    assert payout["payment_method"] == {
        "type": "card",
        "card": {"brand": "visa", "last4": "4242", "bin": "424242"},
    }
    assert (payout["refunds"], payout["amounts"]["gross"]["amount"]) == ([], 1200)
    assert await k.wallet() == {"usd": 3800}  # the reservation is not spendable
    assert await k.webhook_types(session["id"]) == ["ready_to_confirm"]
    done = (await k.ok("session/confirm", {"session_id": session["id"]}))["session"]
    [paid] = payouts_of(done)
    assert (done["status"], paid["status"]) == ("accepted", "succeeded")
    assert set(paid["transaction_info"]) == {"rrn", "auth_code"}
    assert await k.webhook_types(session["id"]) == ["ready_to_confirm", "payment_finished"]
    assert await k.wallet() == {"usd": 3800}
    assert (await k.balances()).get("external_payees") == 1200
    assert "in_flight_payouts" not in await k.balances()
    assert [c[0] for c in await k.processor_calls(paid["id"])] == ["payout"]


@pytest.mark.parametrize(
    ("destination", "code"),
    [
        (card("4000000000000002"), "card_number_does_not_exist"),
        (card("4000000000009995"), "provider_exceeds_amount_limit"),
        (card("4000000000000119"), "provider_internal_error"),
        (account(iban=None, account_number="12340002"), "account_not_found"),
        (wallet("639171230002"), "account_not_found"),
    ],
    ids=["card_0002", "card_9995", "card_0119", "account_0002", "wallet_0002"],
)
async def test_a_refused_payout_fails_and_returns_the_money(
    open_kassa: Any, destination: dict[str, Any], code: str
) -> None:
    """The rail refuses by the sandbox rules: failed with its code, the wallet made whole."""
    k: Kassa = await open_kassa()
    await k.topup(5000)
    session = await _start(k, payout_body(destination, amount=700))
    done = (await k.ok("session/confirm", {"session_id": session["id"]}))["session"]
    [payout] = payouts_of(done)
    assert (done["status"], payout["status"], payout["error"]["code"]) == (
        "cancelled",
        "failed",
        code,
    )
    assert await k.wallet() == {"usd": 5000}
    assert await k.webhook_types(session["id"]) == ["ready_to_confirm", "payment_finished"]


@pytest.mark.parametrize(
    "destination",
    [
        account(),
        account(iban=None, account_number="31926819", sort_code="12-34-56"),
        account(iban=None, bank_account_number="000123456789", routing_code="111000025",
                account_type="CHECKING"),
        account(iban=None, account_number="123456", branch_number="123", swift_bic_code="DEUTDEFF"),
        wallet(),
    ],
    ids=["iban", "uk", "us", "israel", "wallet"],
)  # fmt: skip
async def test_accounts_and_wallets_are_paid_and_shown_by_their_last_four(
    open_kassa: Any, destination: dict[str, Any]
) -> None:
    """Each destination pays out; numbers show only as ``****`` + last four, stored sealed."""
    k: Kassa = await open_kassa(auto_confirm=True)
    await k.topup(5000)
    session = await _start(k, payout_body(destination))
    [payout] = payouts_of(session)
    assert payout["status"] == "succeeded"
    shown = orjson.dumps(payout["payment_method"]).decode()
    for secret in (IBAN, "31926819", "000123456789", "123456", MSISDN):
        assert secret not in shown
    assert "****" in shown
    rows = await k.store.driver.fetch("SELECT doc FROM sessions WHERE id = ?", (session["id"],))
    for secret in (IBAN, "31926819", "000123456789", MSISDN):
        assert secret not in rows[0][0]  # sealed in the session document too
    assert await k.webhook_types(session["id"]) == ["payment_finished"]  # auto-confirmed


async def test_a_wallet_that_cannot_cover_it_refuses_and_creates_nothing(open_kassa: Any) -> None:
    """422 insufficient_funds; no session, no posting, no webhook; also in another currency."""
    k: Kassa = await open_kassa()
    await k.topup(999)
    before = await table_counts(k.database_url)
    description = await k.error(
        "session/init/payout", payout_body(amount=1000), 422, "insufficient_funds"
    )
    assert "usd" in description
    await k.error(
        "session/init/payout", payout_body(amount=10, currency="eur"), 422, "insufficient_funds"
    )
    assert await table_counts(k.database_url) == before
    assert await k.wallet() == {"usd": 999}


async def test_cancel_and_the_confirm_timeout_return_the_reservation(open_kassa: Any) -> None:
    """A pending payout cancelled, another left to time out: both failed, wallet whole."""
    k: Kassa = await open_kassa()
    await k.topup(3000)
    cancelled = await _start(k, payout_body(amount=1000))
    late = await _start(k, payout_body(amount=1000))
    assert await k.wallet() == {"usd": 1000}
    done = (await k.ok("session/cancel", {"session_id": cancelled["id"]}))["session"]
    assert payouts_of(done)[0]["error"]["code"] == "cancelled"
    now = k.deps.clock.now()
    assert await sweep_timeouts(k.deps, now + timedelta(minutes=240) - timedelta(seconds=1)) == 0
    assert await sweep_timeouts(k.deps, now + timedelta(minutes=241)) == 1
    timed_out = payouts_of(await k.session(late["id"]))[0]
    assert (timed_out["status"], timed_out["error"]["code"]) == ("failed", "confirm_timeout")
    assert await k.wallet() == {"usd": 3000}
    for sid in (cancelled["id"], late["id"]):
        assert await k.webhook_types(sid) == ["ready_to_confirm", "payment_finished"]


async def test_create_then_start_payout_start_values_win(open_kassa: Any) -> None:
    """session/create pre-fills destination and amount; start/payout adds the rest and wins."""
    k: Kassa = await open_kassa()
    await k.topup(5000)
    created = await k.ok(
        "session/create",
        {
            "payment_method": card("5555555555554444"),
            "amount_details": {"amount": 300, "currency": "usd"},
        },
    )
    sid = created["session"]["id"]
    started = await k.ok(
        "session/start/payout",
        {
            "session_id": sid,
            "amount_details": {"amount": 400, "currency": "usd"},
            "participant_details": RECIPIENT,
        },
    )
    [payout] = payouts_of(started["session"])
    assert (payout["amount_details"]["amount"], payout["payment_method"]["card"]["last4"]) == (
        400,
        "4444",
    )


async def test_several_payouts_in_one_session(open_kassa: Any) -> None:
    """start/payout again once the first payout finished: a second payout, same session."""
    k: Kassa = await open_kassa(auto_confirm=True)
    await k.topup(5000)
    session = await _start(k, payout_body(amount=100))
    again = await k.ok(
        "session/start/payout", {"session_id": session["id"], **payout_body(wallet(), amount=200)}
    )
    assert [p["amount_details"]["amount"] for p in payouts_of(again["session"])] == [100, 200]
    assert again["session"]["status"] == "accepted"
    assert await k.wallet() == {"usd": 4700}


async def test_start_payout_needs_a_startable_session(open_kassa: Any) -> None:
    """A session holding a live payment, or a cancelled one, refuses start/payout (409)."""
    k: Kassa = await open_kassa()
    await k.topup(5000)
    paying = (await k.ok("session/init/payment", init_body()))["session"]["id"]
    await k.error(
        "session/start/payout",
        {"session_id": paying, **payout_body()},
        409,
        "invalid_session_status",
    )
    cancelled = (await k.ok("session/create", {}))["session"]["id"]
    await k.ok("session/cancel", {"session_id": cancelled})
    await k.error(
        "session/start/payout",
        {"session_id": cancelled, **payout_body()},
        409,
        "invalid_session_status",
    )
    await k.ok("session/cancel", {"session_id": paying})


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_fps_payout_in_rubles_and_its_rules(open_kassa: Any, version: str) -> None:
    """FPS pays RUB to a bank of fps/banks; another currency or bank is invalid_request."""
    k: Kassa = await open_kassa(auto_confirm=True)
    await k.topup(100000, "rub")
    done = await k.ok(
        "session/init/payout",
        payout_body(fps(), 30000, "rub", version=version, recipient=None),
        version=version,
    )
    [payout] = payouts_of(done["session"], version)
    name = "payout_details" if version == "v2" else "payment_method"
    shown = payout[name]["bank_account"]["faster_payment_system"]
    assert shown["phone"] == "****0000"
    assert payout["status"] == "succeeded"
    where = f"{name}.bank_account.faster_payment_system"
    said = await k.error(
        "session/init/payout",
        payout_body(fps(), 100, "usd", version=version),
        400,
        "invalid_request",
        version=version,
    )
    assert said.startswith("amount_details.currency")
    said = await k.error(
        "session/init/payout",
        payout_body(fps(bank_id="999"), 100, "rub", version=version),
        400,
        "invalid_request",
        version=version,
    )
    assert said.startswith(f"{where}.bank_id")


async def test_fps_customer_verification_accepts_or_cancels_the_session(open_kassa: Any) -> None:
    """Registered phone → session accepted; a phone ending 0000 → cancelled; no ready_to_confirm."""
    k: Kassa = await open_kassa()

    async def verify(phone: str) -> dict[str, Any]:
        sid = (await k.ok("session/create", {}))["session"]["id"]
        body = {
            "session_id": sid,
            "payment_method": {
                "type": "bank_account",
                "bank_account": {
                    "system_type": "faster_payment_system_verification",
                    "faster_payment_system_verification": {
                        "phone": phone,
                        "bank_id": "100000000069",
                    },
                },
            },
            "participant_details": {"recipient": {"first_name": "Ivan", "last_name": "Ivanov"}},
        }
        return (await k.ok("fps/customer_verification", body))["session"]

    registered = await verify("79261234567")
    assert registered["status"] == "accepted"
    unregistered = await verify(FPS_PHONE)
    assert unregistered["status"] == "cancelled"
    for session in (registered, unregistered):
        assert await k.webhook_types(session["id"]) == ["payment_finished"]


@pytest.mark.parametrize("http", ["GET", "POST"])
async def test_fps_banks_answers_get_with_a_signed_empty_array(open_kassa: Any, http: str) -> None:
    """The PHP SDK's GET with a signed ``[]``, and a POST: the fixed sandbox list."""
    from testkit import sign

    k: Kassa = await open_kassa()
    headers = {"X-PARTNER-PROJECT": k.project.id, "X-PARTNER-SIGN": sign(b"[]", k.project.key)}
    response = await k.http.request(http, "/api/v1/fps/banks", content=b"[]", headers=headers)
    assert response.status_code == 200, response.text
    banks = response.json()["banks"]
    assert {"id": "100000000069", "eng_name": "Sandbox Bank", "ru_name": "Песочный банк"} in banks


async def test_a_retried_init_payout_never_reserves_twice(open_kassa: Any) -> None:
    """Same key and body: the stored reply, one reservation."""
    k: Kassa = await open_kassa()
    await k.topup(5000)
    first = await k.post("session/init/payout", payout_body(amount=900), idempotency_key="po-1")
    second = await k.post("session/init/payout", payout_body(amount=900), idempotency_key="po-1")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert await k.wallet() == {"usd": 4100}


async def test_wallet_balance_needs_a_request_datetime_with_an_offset(open_kassa: Any) -> None:
    """``request_datetime`` is required, ISO 8601 with an offset; none funded: no wallets."""
    k: Kassa = await open_kassa()
    assert (await k.ok("wallet/balance", {"request_datetime": "2024-04-10T19:53:00+03:00"}))[
        "wallets"
    ] == []
    said = await k.error("wallet/balance", {}, 400, "invalid_request")
    assert said.startswith("request_datetime")
    said = await k.error(
        "wallet/balance", {"request_datetime": "2024-04-10T19:53:00"}, 400, "invalid_request"
    )
    assert said.startswith("request_datetime")


BAD = [
    ({"amount_details": {"amount": 0, "currency": "usd"}}, 400, "amount_details.amount"),
    ({"amount_details": {"amount": -5, "currency": "usd"}}, 400, "amount_details.amount"),
    ({"amount_details": {"amount": 1.5, "currency": "usd"}}, 400, "amount_details.amount"),
    ({"amount_details": {"amount": "100", "currency": "usd"}}, 400, "amount_details.amount"),
    ({"amount_details": {"amount": 100, "currency": "xyz"}}, 400, "amount_details.currency"),
    ({"amount_details": {"amount": 100, "currency": "eur"}}, 422, "the eur payout wallet"),
    ({"payment_method": card("4242424242424241")}, 400, "payment_method.card.bank_card.number"),
    (
        {"payment_method": account(iban="GB82WEST12345698765431")},
        400,
        "payment_method.bank_account.global.iban",
    ),
    (
        {"payment_method": account(description=None)},
        400,
        "payment_method.bank_account.global.description",
    ),
    ({"payment_method": account(iban=None)}, 400, "payment_method.bank_account.global: one of"),
    (
        {
            "payment_method": {
                "type": "bank_account",
                "bank_account": {"system_type": "upi", "upi": {}},
            }
        },
        400,
        "payment_method.bank_account.system_type",
    ),
    ({"payment_method": wallet(msisdn=None)}, 400, "payment_method.wallet.global.msisdn"),
    (
        {"participant_details": {"recipient": {"first_name": "Ann"}}},
        400,
        "participant_details.recipient.full_name",
    ),
    (
        {
            "participant_details": {
                "recipient": {"full_name": "A"},
                "sender": {"company_name": "12345"},
            }
        },
        400,
        "participant_details.sender.company_name",
    ),
    (
        {
            "participant_details": {
                "recipient": {"full_name": "A"},
                "sender": {"registration_number": "1" * 65},
            }
        },
        400,
        "participant_details.sender.registration_number",
    ),
    ({"payout_details": card()}, 400, "payout_details: not a field in this API version"),
    (
        {"payment_method": {"type": "crypto_wallet", "crypto_wallet": {}}},
        400,
        "payment_method.type: the sandbox pays out",
    ),
]


@pytest.mark.parametrize(("change", "status", "says"), BAD, ids=[b[2] for b in BAD])
async def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    open_kassa: Any, change: dict[str, Any], status: int, says: str
) -> None:
    """Each bad amount, currency, destination or participant: a clear 400/422, no row."""
    k: Kassa = await open_kassa()
    await k.topup(5000)
    before = await table_counts(k.database_url)
    body = {**payout_body(), **change}
    if "payout_details" in change:
        del body["payment_method"]
    response = await k.post(
        "session/init/payout", {k2: v for k2, v in body.items() if v is not None}
    )
    assert response.status_code == status, response.text
    assert says in response.json()["error"]["description"]
    assert await table_counts(k.database_url) == before
