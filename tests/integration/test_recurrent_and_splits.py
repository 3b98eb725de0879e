"""Recurrent tokens (MIT, CIT, disable, status, token/info) and revenue splits."""

from __future__ import annotations

from typing import Any

from acquiring_kit import BASE, Kassa, init_body


async def _token(kassa: Kassa) -> tuple[str, str]:
    body = init_body(payment_options={"recurrent": True})
    done = (await kassa.ok("session/init/payment", body))["session"]
    sid = done["id"]
    if done.get("next_action") == "confirm":
        done = (await kassa.ok("session/confirm", {"session_id": sid}))["session"]
    recurrent = done["acquiring_payments"][0]["recurrent"]
    assert recurrent["type"] == "recurrent_token"
    return str(recurrent["token"]), str(sid)


def _charge(token: str, initiator: str, **extra: Any) -> dict[str, Any]:
    return {
        "payment_details": {
            "type": "recurrent",
            "recurrent": {"token": token, "initiator": initiator},
        },
        "amount_details": {"amount": 500, "currency": "usd"},
        "customer": {"reference": "lucky"},
        **extra,
    }


async def test_merchant_initiated_charge_needs_no_customer(open_kassa: Any) -> None:
    """MIT on a token succeeds without any customer step (auto_confirm project)."""
    kassa = await open_kassa(auto_confirm=True)
    token, _ = await _token(kassa)
    session = (await kassa.ok("session/init/payment", _charge(token, "merchant")))["session"]
    payment = session["acquiring_payments"][0]
    assert payment["status"] == "succeeded"
    assert payment["payment_details"]["recurrent"] == {"token": token, "initiator": "merchant"}


async def test_client_initiated_charge_goes_through_3ds_and_needs_return_url(
    open_kassa: Any,
) -> None:
    """CIT without return_url is invalid_request; with it the payment asks for 3DS."""
    kassa = await open_kassa()
    token, _ = await _token(kassa)
    description = await kassa.error(
        "session/init/payment", _charge(token, "client"), 400, "invalid_request"
    )
    assert description.startswith("payment_options.return_url")
    body = _charge(token, "client", payment_options={"return_url": "https://shop.example/r"})
    session = (await kassa.ok("session/init/payment", body))["session"]
    redirect = session["acquiring_payments"][0]["customer_interaction"]["redirect"]
    assert redirect["base_url"].startswith(f"{BASE}/3ds/")


async def test_disabled_token_is_recurrent_token_inactive(open_kassa: Any) -> None:
    """recurrent/disable → status inactive → a charge is 422 recurrent_token_inactive."""
    kassa = await open_kassa()
    token, _ = await _token(kassa)
    status = await kassa.ok("recurrent/status", {"recurrent": {"token": token}})
    assert status["recurrent"]["is_active"] is True
    disabled = await kassa.ok("recurrent/disable", {"recurrent": {"token": token}})
    assert disabled["recurrent"]["is_active"] is False
    assert "finished_at" in disabled["recurrent"]
    status = await kassa.ok("recurrent/status", {"recurrent": {"token": token}})
    assert status["recurrent"]["is_active"] is False
    await kassa.error(
        "session/init/payment", _charge(token, "merchant"), 422, "recurrent_token_inactive"
    )


async def test_token_info_for_recurrent_token_and_card_hash(open_kassa: Any) -> None:
    """token/info shows a recurrent token's state and a number_hash's brand and last4."""
    kassa = await open_kassa()
    token, _ = await _token(kassa)
    info = await kassa.ok(
        "token/info", {"type": "recurrent_token", "recurrent_token": {"token": token}}
    )
    assert info["info"]["is_active"] is True
    number_hash = kassa.deps.vault.number_hash(kassa.project.id, "4242424242424242")
    card = await kassa.ok(
        "token/info",
        {
            "type": "card",
            "card": {"type": "encrypted_card", "encrypted_card": {"number_hash": number_hash}},
        },
    )
    assert card["info"] == {
        "number_hash": number_hash,
        "brand": "visa",
        "last4": "4242",
        "type": "card",
    }


async def test_another_projects_token_is_unknown(open_kassa: Any) -> None:
    """A token of one project cannot be read or charged by another."""
    kassa = await open_kassa()
    token, _ = await _token(kassa)
    other = await open_kassa()
    await other.error("recurrent/status", {"recurrent": {"token": token}}, 400, "invalid_request")
    await other.error("session/init/payment", _charge(token, "merchant"), 400, "invalid_request")


async def test_encrypted_card_from_the_vault_can_be_charged(open_kassa: Any) -> None:
    """payment_details with encrypted_card.number_hash charges the vaulted card."""
    kassa = await open_kassa()
    await _token(kassa)
    number_hash = kassa.deps.vault.number_hash(kassa.project.id, "4242424242424242")
    body = init_body() | {
        "payment_details": {
            "type": "card",
            "card": {"type": "encrypted_card", "encrypted_card": {"number_hash": number_hash}},
        },
    }
    session = (await kassa.ok("session/init/payment", body))["session"]
    assert session["acquiring_payments"][0]["status"] == "pending"


SPLIT = [
    {"contractor_alias": "courier", "amount": 1000},
    {"contractor_alias": "platform", "percent": 10},
    {"contractor_alias": "partner", "remains": True},
]


async def test_split_divides_the_captured_amount_in_the_ledger(open_kassa: Any) -> None:
    """Fixed 1000, 10 % and the remains go to their accounts; the merchant keeps nothing."""
    kassa = await open_kassa(auto_confirm=True)
    session = (await kassa.ok("session/init/payment", init_body(revenue_split_info=SPLIT)))[
        "session"
    ]
    assert (
        session["acquiring_payments"][0]["revenue_split_info"][0]["contractor_alias"] == "courier"
    )
    assert await kassa.balances() == {
        "payer_funds": -10000,
        "split:courier": 1000,
        "split:platform": 1000,
        "split:partner": 8000,
    }


async def test_refunds_reverse_splits_pro_rata(open_kassa: Any) -> None:
    """A half refund takes half of each part back; the rest takes everything back."""
    kassa = await open_kassa(auto_confirm=True)
    sid = (await kassa.ok("session/init/payment", init_body(revenue_split_info=SPLIT)))["session"][
        "id"
    ]
    await kassa.ok(
        "session/refund", {"session_id": sid, "amount_details": {"amount": 5000, "currency": "usd"}}
    )
    assert await kassa.balances() == {
        "payer_funds": -5000,
        "split:courier": 500,
        "split:platform": 500,
        "split:partner": 4000,
    }
    await kassa.ok("session/refund", {"session_id": sid})
    assert await kassa.balances() == {}


async def test_bad_split_is_invalid_request(open_kassa: Any) -> None:
    """Splits above the amount are refused at init, naming the field."""
    kassa = await open_kassa()
    body = init_body(revenue_split_info=[{"contractor_alias": "a", "amount": 20000}])
    description = await kassa.error("session/init/payment", body, 400, "invalid_request")
    assert description.startswith("revenue_split_info")
