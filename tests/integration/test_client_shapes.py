"""What Bank 131's official PHP SDK reads, served on payments, payouts, refunds and webhooks.

Its typed getters throw when an optional collection or object is absent: ``refunds: []``
before the first refund, ``amounts: {gross, net, fee: {merchant_fee}}`` (fee 0),
``recurrent.is_active``, ``customer.contacts: []``. Absent scalars stay omitted, never null.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from acquiring_kit import init_body
from payout_kit import payout_body, payouts_of

if TYPE_CHECKING:
    from acquiring_kit import Kassa


def _nulls(value: Any, path: str = "") -> list[str]:
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nulls(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nulls(v, f"{path}[{i}]")]
    return []


def _amounts(minor: int) -> dict[str, Any]:
    return {
        "gross": {"amount": minor, "currency": "usd"},
        "net": {"amount": minor, "currency": "usd"},
        "fee": {"merchant_fee": {"amount": 0, "currency": "usd"}},
    }


async def test_payment_refund_and_webhook_carry_what_the_sdk_reads(open_kassa: Any) -> None:
    """Refunds [], amounts, contacts [] on the payment; amounts on the refund; in webhooks."""
    k: Kassa = await open_kassa(auto_confirm=True)
    body = init_body(payment_options={"recurrent": True})
    session = (await k.ok("session/init/payment", body))["session"]
    [payment] = session["acquiring_payments"]
    assert payment["refunds"] == []
    assert payment["amounts"] == _amounts(10000)
    assert payment["customer"] == {"reference": "lucky", "contacts": []}
    assert payment["recurrent"]["is_active"] is True
    refunded = await k.ok(
        "session/refund",
        {"session_id": session["id"], "amount_details": {"amount": 400, "currency": "usd"}},
    )
    [refund] = refunded["session"]["acquiring_payments"][0]["refunds"]
    assert refund["amounts"] == _amounts(400)
    for hook in await k.webhooks(session["id"]):
        hooked = hook["session"]["acquiring_payments"][0]
        assert "refunds" in hooked
        assert "amounts" in hooked
        assert _nulls(hook) == []
    await k.ok("recurrent/disable", {"recurrent": {"token": payment["recurrent"]["token"]}})
    shown = (await k.session(session["id"]))["acquiring_payments"][0]["recurrent"]
    assert shown["is_active"] is False
    assert "finished_at" in shown


async def test_payout_carries_what_the_sdk_reads(open_kassa: Any) -> None:
    """A payout: refunds [], amounts, customer contacts []; no nulls anywhere."""
    k: Kassa = await open_kassa()
    await k.topup(5000)
    body = payout_body(amount=700, customer={"reference": "user123"})
    session = (await k.ok("session/init/payout", body))["session"]
    [payout] = payouts_of(session)
    assert payout["refunds"] == []
    assert payout["amounts"] == _amounts(700)
    assert payout["customer"] == {"reference": "user123", "contacts": []}
    assert _nulls(session) == []


async def test_session_chargeback_is_the_sandbox_chargeback(open_kassa: Any) -> None:
    """``session/chargeback`` (the PHP SDK calls it): payment_refunded with is_chargeback."""
    k: Kassa = await open_kassa(auto_confirm=True)
    sid = (await k.ok("session/init/payment", init_body()))["session"]["id"]
    done = (await k.ok("session/chargeback", {"session_id": sid}))["session"]
    [refund] = done["acquiring_payments"][0]["refunds"]
    assert (refund["is_chargeback"], refund["amount_details"]["amount"]) == (True, 10000)
    assert (await k.webhook_types(sid))[-1] == "payment_refunded"
    await k.error("session/chargeback", {"session_id": sid}, 409, "invalid_session_status")
