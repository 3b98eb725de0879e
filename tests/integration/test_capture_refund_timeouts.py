"""Two-step capture, refunds, chargebacks and the timeout sweeper, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from acquiring_kit import Kassa, init_body
from kassa.service.refunds import chargeback
from kassa.service.timeouts import sweep_timeouts


async def _held(kassa: Kassa, amount: int = 10000, **extra: Any) -> str:
    session = (await kassa.ok("session/init/payment", init_body(amount=amount, **extra)))["session"]
    assert session["next_action"] == "capture"
    assert session["acquiring_payments"][0]["status"] == "pending"
    return str(session["id"])


async def test_two_step_capture_in_full(open_kassa: Any) -> None:
    """Authorise → ready_to_capture → capture → succeeded with payment_finished."""
    kassa = await open_kassa(two_step_capture=True)
    sid = await _held(kassa)
    assert await kassa.balances() == {"payer_funds": -10000, "holds": 10000}
    done = (await kassa.ok("session/capture", {"session_id": sid}))["session"]
    assert done["status"] == "accepted"
    assert await kassa.webhook_types(sid) == ["ready_to_capture", "payment_finished"]
    assert await kassa.balances() == {"payer_funds": -10000, "merchant_balance": 10000}


async def test_partial_capture_releases_the_rest(open_kassa: Any) -> None:
    """Capturing 6000 of 10000 releases 4000; only 6000 may be refunded."""
    kassa = await open_kassa(two_step_capture=True)
    sid = await _held(kassa)
    body = {"session_id": sid, "amount_details": {"amount": 6000, "currency": "usd"}}
    await kassa.ok("session/capture", body)
    assert await kassa.balances() == {"payer_funds": -6000, "merchant_balance": 6000}
    await kassa.error(
        "session/refund",
        {"session_id": sid, "amount_details": {"amount": 6001, "currency": "usd"}},
        422,
        "refund_amount_exceeded",
    )


async def test_capture_above_the_hold_is_invalid_request(open_kassa: Any) -> None:
    """A capture larger than the hold is refused and the hold stays."""
    kassa = await open_kassa(two_step_capture=True)
    sid = await _held(kassa)
    body = {"session_id": sid, "amount_details": {"amount": 10001, "currency": "usd"}}
    assert "amount_details.amount" in await kassa.error(
        "session/capture", body, 400, "invalid_request"
    )
    assert (await kassa.session(sid))["next_action"] == "capture"


async def test_cancel_releases_the_hold(open_kassa: Any) -> None:
    """Cancel after ready_to_capture releases the hold; capture afterwards is 409."""
    kassa = await open_kassa(two_step_capture=True)
    sid = await _held(kassa)
    assert (await kassa.ok("session/cancel", {"session_id": sid}))["session"][
        "status"
    ] == "cancelled"
    assert await kassa.balances() == {}
    await kassa.error("session/capture", {"session_id": sid}, 409, "invalid_session_status")


async def test_capture_of_a_confirmed_payment_is_invalid_session_status(open_kassa: Any) -> None:
    """A payment waiting for confirm cannot be captured, and confirm cannot capture a hold."""
    kassa = await open_kassa()
    sid = (await kassa.ok("session/init/payment", init_body()))["session"]["id"]
    await kassa.error("session/capture", {"session_id": sid}, 409, "invalid_session_status")
    await kassa.ok("session/confirm", {"session_id": sid})
    await kassa.error("session/capture", {"session_id": sid}, 409, "invalid_session_status")


async def _paid(kassa: Kassa, amount: int = 10000, **extra: Any) -> str:
    sid = (await kassa.ok("session/init/payment", init_body(amount=amount, **extra)))["session"][
        "id"
    ]
    await kassa.ok("session/confirm", {"session_id": sid})
    return str(sid)


async def test_several_partial_refunds_up_to_the_captured_amount(open_kassa: Any) -> None:
    """3000 + 3000 + 4000 are accepted; one more unit is refund_amount_exceeded."""
    kassa = await open_kassa()
    sid = await _paid(kassa)
    for amount in (3000, 3000, 4000):
        body = {"session_id": sid, "amount_details": {"amount": amount, "currency": "usd"}}
        session = (await kassa.ok("session/refund", body))["session"]
        assert session["status"] == "accepted"
        assert session["acquiring_payments"][0]["refunds"][-1]["status"] == "accepted"
    refunds = session["acquiring_payments"][0]["refunds"]
    assert [r["amount_details"]["amount"] for r in refunds] == [3000, 3000, 4000]
    assert all(r["is_chargeback"] is False for r in refunds)
    infos = [r["transaction_info"] for r in refunds]
    assert all(set(i) == {"rrn", "auth_code"} for i in infos)
    assert len({i["rrn"] for i in infos}) == len(infos)  # each refund its own reference
    body = {"session_id": sid, "amount_details": {"amount": 1, "currency": "usd"}}
    await kassa.error("session/refund", body, 422, "refund_amount_exceeded")
    assert await kassa.webhook_types(sid) == [
        "ready_to_confirm",
        "payment_finished",
        "payment_refunded",
        "payment_refunded",
        "payment_refunded",
    ]
    assert await kassa.balances() == {}


async def test_full_refund_without_amount_refunds_the_rest(open_kassa: Any) -> None:
    """Without amount_details the whole remaining amount is refunded."""
    kassa = await open_kassa()
    sid = await _paid(kassa)
    await kassa.ok(
        "session/refund", {"session_id": sid, "amount_details": {"amount": 2500, "currency": "usd"}}
    )
    session = (await kassa.ok("session/refund", {"session_id": sid}))["session"]
    assert session["acquiring_payments"][0]["refunds"][-1]["amount_details"]["amount"] == 7500


async def test_refund_of_unsuccessful_or_created_session_is_invalid_session_status(
    open_kassa: Any,
) -> None:
    """Refunding a failed payment, a pending one or a created session is 409."""
    kassa = await open_kassa()
    failed = (await kassa.ok("session/init/payment", init_body("4000000000000002")))["session"]
    await kassa.error("session/refund", {"session_id": failed["id"]}, 409, "invalid_session_status")
    pending = (await kassa.ok("session/init/payment", init_body()))["session"]
    await kassa.error(
        "session/refund", {"session_id": pending["id"]}, 409, "invalid_session_status"
    )
    created = (await kassa.ok("session/create", {}))["session"]
    await kassa.error(
        "session/refund", {"session_id": created["id"]}, 409, "invalid_session_status"
    )


async def test_partial_refunds_can_be_switched_off(open_kassa: Any) -> None:
    """With partial_refunds off only the whole amount may be refunded."""
    kassa = await open_kassa(partial_refunds=False)
    sid = await _paid(kassa)
    body = {"session_id": sid, "amount_details": {"amount": 100, "currency": "usd"}}
    await kassa.error("session/refund", body, 422, "refund_amount_exceeded")
    await kassa.ok("session/refund", {"session_id": sid})


async def test_chargeback_arrives_as_payment_refunded_with_is_chargeback(open_kassa: Any) -> None:
    """A sandbox chargeback takes back the rest and is announced as payment_refunded."""
    kassa = await open_kassa()
    sid = await _paid(kassa)
    await kassa.ok(
        "session/refund", {"session_id": sid, "amount_details": {"amount": 1000, "currency": "usd"}}
    )
    payment_id = (await kassa.session(sid))["acquiring_payments"][0]["id"]
    await chargeback(kassa.deps, payment_id)
    last = (await kassa.webhooks(sid))[-1]
    assert last["type"] == "payment_refunded"
    refund = last["session"]["acquiring_payments"][0]["refunds"][-1]
    assert refund["is_chargeback"] is True
    assert set(refund["transaction_info"]) == {"rrn", "auth_code"}
    assert refund["amount_details"]["amount"] == 9000
    assert await kassa.balances() == {}


@pytest.mark.parametrize(
    ("settings", "number", "code"),
    [
        ({}, "4242424242424242", "confirm_timeout"),
        ({}, "4000000000003220", "3DS_error"),
        ({"two_step_capture": True}, "4242424242424242", "capture_timeout"),
    ],
)
async def test_sweeper_expires_each_wait(
    open_kassa: Any, settings: dict[str, bool], number: str, code: str
) -> None:
    """No confirm / 3DS / capture in time → failed with the code, hold released, webhook sent."""
    kassa = await open_kassa(**settings)
    sid = (await kassa.ok("session/init/payment", init_body(number)))["session"]["id"]
    now = kassa.deps.clock.now()
    assert await sweep_timeouts(kassa.deps, now) == 0
    assert await sweep_timeouts(kassa.deps, now + timedelta(days=6)) == 1
    session = await kassa.session(sid)
    assert session["status"] == "cancelled"
    assert session["acquiring_payments"][0]["error"]["code"] == code
    assert (await kassa.webhook_types(sid))[-1] == "payment_finished"
    assert await kassa.balances() == {}
    assert await sweep_timeouts(kassa.deps, now + timedelta(days=7)) == 0


async def test_confirm_before_the_deadline_is_not_expired(open_kassa: Any) -> None:
    """A confirmed payment has no deadline left for the sweeper."""
    kassa = await open_kassa()
    sid = await _paid(kassa)
    assert await sweep_timeouts(kassa.deps, kassa.deps.clock.now() + timedelta(days=30)) == 0
    assert (await kassa.session(sid))["status"] == "accepted"
