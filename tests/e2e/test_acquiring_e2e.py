"""Card acquiring end to end: a real ``kassa serve`` over HTTP, webhooks to a real receiver.

The server runs its in-process worker (delivery + timeout sweeper); the receiver listens on
127.0.0.1; both SQLite and PostgreSQL. One server per module and database; each test makes
its own project. A second server (same database and keys) with timeouts shrunk to seconds
runs the timeout tests. Every test ends with ``kassa ledger check`` (see
``acquiring_e2e_kit.open_shop``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import httpx
import pytest

import acquiring_e2e_kit as kit
from acquiring_e2e_kit import press_on_3ds_page
from acquiring_kit import init_body
from kassa.bootstrap import open_store
from testkit import table_rows

# The kit's fixtures, found by pytest under these names.
receiver, server_dir, open_shop = kit.receiver, kit.server_dir, kit.open_shop
acquiring_server, hurried_server = kit.acquiring_server, kit.hurried_server

CARDS = [
    ("4242424242424242", "ready_to_confirm", None),
    ("5555555555554444", "ready_to_confirm", None),
    ("4000000000003220", "action_required", None),
    ("4000000000000002", "payment_finished", "card_number_does_not_exist"),
    ("4000000000009995", "payment_finished", "provider_exceeds_amount_limit"),
    ("4000000000000069", "payment_finished", "bank_card_expired"),
    ("4000000000000119", "payment_finished", "provider_internal_error"),
    ("4111111111111111", "ready_to_confirm", None),
]


@pytest.mark.parametrize(("number", "webhook", "code"), CARDS)
async def test_test_card_answer_arrives_as_signed_webhook(
    open_shop: Any, number: str, webhook: str, code: str | None
) -> None:
    """Each sandbox card's flow over HTTP: signed webhooks, card masked, no number or CVC.

    Approved cards are confirmed and end ``payment_finished`` succeeded with
    ``transaction_info``; declined ones end failed with their code and no references.
    (The 3DS card's pass and fail are ``test_3ds_page_pass_or_fail``.)
    """
    shop = await open_shop()
    session = (await shop.ok("session/init/payment", init_body(number)))["session"]
    sid = session["id"]
    [hook, *_] = await shop.webhooks(sid, webhook)
    payment = hook["session"]["acquiring_payments"][0]
    assert payment["payment_details"]["card"]["last4"] == number[-4:]
    assert payment["payment_details"]["card"]["bin"] == number[:6]
    assert payment.get("error", {}).get("code") == code
    if webhook == "ready_to_confirm":
        await shop.ok("session/confirm", {"session_id": sid})
        hooks = await shop.webhooks(sid, webhook, "payment_finished")
        finished = hooks[1]["session"]
        assert finished["status"] == "accepted"
        assert finished["acquiring_payments"][0]["status"] == "succeeded"
        assert set(finished["acquiring_payments"][0]["transaction_info"]) == {"rrn", "auth_code"}
    elif webhook == "payment_finished":
        assert hook["session"]["status"] == "cancelled"
        assert payment["status"] == "failed"
        assert "transaction_info" not in payment
    raw = b"".join(r.body for r in shop.receiver.for_session(sid)).decode()
    assert number not in raw
    assert "security_code" not in raw


async def test_luhn_invalid_card_is_rejected_over_http(open_shop: Any) -> None:
    """A number failing Luhn is 400 invalid_request."""
    shop = await open_shop()
    await shop.error("session/init/payment", init_body("4242424242424241"), 400, "invalid_request")


async def test_confirm_flow_ends_with_payment_finished(open_shop: Any) -> None:
    """ready_to_confirm → session/confirm → payment_finished with transaction_info."""
    shop = await open_shop()
    sid = (await shop.ok("session/init/payment", init_body()))["session"]["id"]
    await shop.webhooks(sid, "ready_to_confirm")
    await shop.ok("session/confirm", {"session_id": sid})
    hooks = await shop.webhooks(sid, "ready_to_confirm", "payment_finished")
    finished = hooks[1]["session"]
    assert finished["status"] == "accepted"
    assert set(finished["acquiring_payments"][0]["transaction_info"]) == {"rrn", "auth_code"}


async def test_cancel_flow_fails_the_payment(open_shop: Any) -> None:
    """session/cancel after ready_to_confirm → payment_finished with the payment failed."""
    shop = await open_shop()
    sid = (await shop.ok("session/init/payment", init_body()))["session"]["id"]
    await shop.ok("session/cancel", {"session_id": sid})
    hooks = await shop.webhooks(sid, "ready_to_confirm", "payment_finished")
    assert hooks[1]["session"]["status"] == "cancelled"
    payment = hooks[1]["session"]["acquiring_payments"][0]
    assert (payment["status"], payment["error"]["code"]) == ("failed", "cancelled")


@pytest.mark.parametrize(
    ("result", "final"), [("pass", "ready_to_confirm"), ("fail", "payment_finished")]
)
async def test_3ds_page_pass_or_fail(open_shop: Any, result: str, final: str) -> None:
    """A person on kassa's /3ds page passes (flow continues) or fails (3DS_error)."""
    shop = await open_shop()
    body = init_body(
        "4000000000003220", payment_options={"return_url": "https://shop.example/done"}
    )
    session = (await shop.ok("session/init/payment", body))["session"]
    payment = session["acquiring_payments"][0]
    assert (session["status"], payment["status"]) == ("in_progress", "pending")
    assert "next_action" not in session
    redirect = payment["customer_interaction"]["redirect"]
    assert redirect["url"].startswith(f"{shop.server.base_url}/3ds/")
    answer = await press_on_3ds_page(redirect, result.capitalize())
    assert answer.status_code == 303
    assert answer.headers["location"] == "https://shop.example/done"
    hooks = await shop.webhooks(session["id"], "action_required", final)
    after = hooks[1]["session"]["acquiring_payments"][0]
    if result == "fail":
        assert after["error"]["code"] == "3DS_error"
        assert hooks[1]["session"]["status"] == "cancelled"
    else:
        assert hooks[1]["session"]["next_action"] == "confirm"
        await shop.ok("session/confirm", {"session_id": session["id"]})
        hooks = await shop.webhooks(session["id"], "action_required", final, "payment_finished")
        assert hooks[2]["session"]["acquiring_payments"][0]["status"] == "succeeded"
    async with httpx.AsyncClient() as browser:
        answered = await browser.get(redirect["url"])
    assert answered.status_code == 200
    assert "<form" not in answered.text


async def test_auto_confirm_sends_only_payment_finished(open_shop: Any) -> None:
    """An auto_confirm project's payment succeeds without ready_to_confirm."""
    shop = await open_shop(auto_confirm=True)
    sid = (await shop.ok("session/init/payment", init_body()))["session"]["id"]
    hooks = await shop.webhooks(sid, "payment_finished")
    assert hooks[0]["session"]["status"] == "accepted"
    payment = hooks[0]["session"]["acquiring_payments"][0]
    assert payment["status"] == "succeeded"
    assert set(payment["transaction_info"]) == {"rrn", "auth_code"}
    assert shop.receiver.types(sid) == ["payment_finished"]


async def test_delayed_capture_partial_then_refunds(open_shop: Any) -> None:
    """Hold → partial capture → two partial refunds → refund_amount_exceeded."""
    shop = await open_shop(two_step_capture=True)
    sid = (await shop.ok("session/init/payment", init_body()))["session"]["id"]
    [held] = await shop.webhooks(sid, "ready_to_capture")
    assert held["session"]["next_action"] == "capture"
    assert held["session"]["acquiring_payments"][0]["status"] == "pending"
    amount = {"amount": 7000, "currency": "usd"}
    await shop.ok("session/capture", {"session_id": sid, "amount_details": amount})
    captured = (await shop.webhooks(sid, "ready_to_capture", "payment_finished"))[1]["session"]
    assert captured["status"] == "accepted"
    assert set(captured["acquiring_payments"][0]["transaction_info"]) == {"rrn", "auth_code"}
    for part in (3000, 4000):
        await shop.ok(
            "session/refund",
            {"session_id": sid, "amount_details": {"amount": part, "currency": "usd"}},
        )
    await shop.error("session/refund", {"session_id": sid}, 422, "refund_amount_exceeded")
    hooks = await shop.webhooks(
        sid, "ready_to_capture", "payment_finished", "payment_refunded", "payment_refunded"
    )
    assert hooks[-1]["session"]["status"] == "accepted"
    refunds = hooks[-1]["session"]["acquiring_payments"][0]["refunds"]
    assert [r["status"] for r in refunds] == ["accepted", "accepted"]
    assert [r["amount_details"]["amount"] for r in refunds] == [3000, 4000]
    assert [r["is_chargeback"] for r in refunds] == [False, False]
    assert all(set(r["transaction_info"]) == {"rrn", "auth_code"} for r in refunds)


async def test_cancel_releases_a_hold(open_shop: Any) -> None:
    """session/cancel after ready_to_capture releases the hold."""
    shop = await open_shop(two_step_capture=True)
    sid = (await shop.ok("session/init/payment", init_body()))["session"]["id"]
    await shop.ok("session/cancel", {"session_id": sid})
    hooks = await shop.webhooks(sid, "ready_to_capture", "payment_finished")
    assert hooks[1]["session"]["status"] == "cancelled"
    assert hooks[1]["session"]["acquiring_payments"][0]["error"]["code"] == "cancelled"
    await shop.error("session/capture", {"session_id": sid}, 409, "invalid_session_status")


@pytest.mark.parametrize(
    ("settings", "number", "first", "code"),
    [
        ({}, "4242424242424242", "ready_to_confirm", "confirm_timeout"),
        ({}, "4000000000003220", "action_required", "3DS_error"),
        ({"two_step_capture": True}, "4242424242424242", "ready_to_capture", "capture_timeout"),
    ],
)
async def test_worker_sweeper_times_out_each_wait(
    open_shop: Any, settings: dict[str, bool], number: str, first: str, code: str
) -> None:
    """With 2-second timeouts the worker's sweeper fails the payment and says why."""
    shop = await open_shop(hurried=True, **settings)
    sid = (await shop.ok("session/init/payment", init_body(number)))["session"]["id"]
    hooks = await shop.webhooks(sid, first, "payment_finished")
    assert hooks[1]["session"]["status"] == "cancelled"
    assert hooks[1]["session"]["acquiring_payments"][0]["error"]["code"] == code


async def test_chargeback_from_the_cli_arrives_as_payment_refunded(open_shop: Any) -> None:
    """``kassa sandbox chargeback PAYMENT_ID`` → payment_refunded with is_chargeback."""
    shop = await open_shop(auto_confirm=True)
    session = (await shop.ok("session/init/payment", init_body()))["session"]
    payment_id = session["acquiring_payments"][0]["id"]
    env = {
        **os.environ,
        "KASSA_DATABASE_URL": shop.server.database_url,
        "KASSA_DATA_DIR": str(shop.server.data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "kassa", "sandbox", "chargeback", payment_id],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    hooks = await shop.webhooks(session["id"], "payment_finished", "payment_refunded")
    assert hooks[1]["session"]["status"] == "accepted"
    [refund] = hooks[1]["session"]["acquiring_payments"][0]["refunds"]
    assert (refund["status"], refund["is_chargeback"]) == ("accepted", True)
    assert refund["amount_details"] == {"amount": 10000, "currency": "usd"}


async def test_recurrent_token_mit_cit_and_disable(open_shop: Any) -> None:
    """recurrent=true gives a token; MIT charges it; CIT passes 3DS; disabled → inactive."""
    shop = await open_shop(auto_confirm=True)
    first = await shop.ok("session/init/payment", init_body(payment_options={"recurrent": True}))
    recurrent = first["session"]["acquiring_payments"][0]["recurrent"]
    token = recurrent["token"]
    assert recurrent["type"] == "recurrent_token"
    hooks = await shop.webhooks(first["session"]["id"], "payment_finished")
    assert hooks[0]["session"]["acquiring_payments"][0]["recurrent"]["token"] == token
    charge = {
        "payment_details": {
            "type": "recurrent",
            "recurrent": {"token": token, "initiator": "merchant"},
        },
        "amount_details": {"amount": 990, "currency": "usd"},
        "customer": {"reference": "lucky"},
    }
    mit = (await shop.ok("session/init/payment", charge))["session"]
    [done] = await shop.webhooks(mit["id"], "payment_finished")
    assert done["session"]["acquiring_payments"][0]["status"] == "succeeded"
    assert shop.receiver.types(mit["id"]) == ["payment_finished"]  # no customer step
    cit_body = charge | {
        "payment_details": {
            "type": "recurrent",
            "recurrent": {"token": token, "initiator": "client"},
        },
    }
    await shop.error("session/init/payment", cit_body, 400, "invalid_request")  # no return_url
    cit_body["payment_options"] = {"return_url": "https://shop.example/r"}
    cit = (await shop.ok("session/init/payment", cit_body))["session"]
    redirect = cit["acquiring_payments"][0]["customer_interaction"]["redirect"]
    assert (await press_on_3ds_page(redirect, "Pass")).headers["location"] == (
        "https://shop.example/r"
    )
    hooks = await shop.webhooks(cit["id"], "action_required", "payment_finished")
    assert hooks[1]["session"]["acquiring_payments"][0]["status"] == "succeeded"
    info = await shop.ok(
        "token/info", {"type": "recurrent_token", "recurrent_token": {"token": token}}
    )
    assert info["info"]["is_active"] is True
    await shop.ok("recurrent/disable", {"recurrent": {"token": token}})
    status = await shop.ok("recurrent/status", {"recurrent": {"token": token}})
    assert status["recurrent"]["is_active"] is False
    await shop.error("session/init/payment", charge, 422, "recurrent_token_inactive")


async def test_split_payment_and_refund_keep_the_ledger_sound(open_shop: Any) -> None:
    """A split payment, captured and half refunded, passes the ledger check."""
    shop = await open_shop(auto_confirm=True)
    split = [
        {"contractor_alias": "courier", "percent": 15},
        {"contractor_alias": "p", "amount": 99},
    ]
    sid = (await shop.ok("session/init/payment", init_body(revenue_split_info=split)))["session"][
        "id"
    ]
    refunded = await shop.ok(
        "session/refund", {"session_id": sid, "amount_details": {"amount": 5001, "currency": "usd"}}
    )
    [_finished, hook] = await shop.webhooks(sid, "payment_finished", "payment_refunded")
    payment = hook["session"]["acquiring_payments"][0]
    assert payment["revenue_split_info"] == [
        {"contractor_alias": "courier", "percent": "15"},  # kept exact, as a decimal string
        {"contractor_alias": "p", "amount": 99},
    ]
    refund_id = refunded["session"]["acquiring_payments"][0]["refunds"][0]["id"]
    store = await open_store(shop.server.database_url)
    try:
        entries = [e for e in await store.ledger_entries() if e.session_id == sid]
    finally:
        await store.close()

    def postings(operation: str, kind: str) -> dict[str, int]:
        return {
            e.account: e.amount for e in entries if e.operation_id == operation and e.kind == kind
        }

    # 10000 captured: courier 15 % = 1500, p a fixed 99, the project keeps the other 8401
    assert postings(payment["id"], "capture") == {
        "holds": -10000,
        "split:courier": 1500,
        "split:p": 99,
        "merchant_balance": 8401,
    }
    # 5001 refunded pro rata: 750.15, 49.5099, 4201.3401 -> largest remainder gives p the cent
    assert postings(refund_id, "refund") == {
        "split:courier": -750,
        "split:p": -50,
        "merchant_balance": -4201,
        "payer_funds": 5001,
    }


async def test_start_payment_on_created_session_over_v2(open_shop: Any) -> None:
    """v2 create then start: the payment is listed as payment_list in the webhook."""
    shop = await open_shop()
    created = await shop.ok(
        "session/create", {"amount_details": {"amount": 100, "currency": "eur"}}, version="v2"
    )
    sid = created["session"]["id"]
    body = {k: v for k, v in init_body().items() if k != "amount_details"}
    await shop.ok("session/start/payment", {"session_id": sid, **body}, version="v2")
    hooks = await shop.webhooks(sid, "ready_to_confirm")
    assert hooks[0]["session"]["payment_list"][0]["amount_details"] == {
        "amount": 100,
        "currency": "eur",
    }


async def test_operations_the_state_does_not_allow_are_409(open_shop: Any) -> None:
    """Each operation the state forbids is 409 invalid_session_status and changes nothing.

    Confirm twice, capture a confirmed payment, refund a created session, start a payment on a
    cancelled session.
    """
    shop = await open_shop()
    database_url = shop.server.database_url
    sid = (await shop.ok("session/init/payment", init_body()))["session"]["id"]
    await shop.ok("session/confirm", {"session_id": sid})
    await shop.webhooks(sid, "ready_to_confirm", "payment_finished")
    created = (await shop.ok("session/create", {}))["session"]["id"]
    await shop.ok("session/cancel", {"session_id": created})
    before = await _rows_of(database_url, shop.client.project.id)
    statuses = [await shop.ok("session/status", {"session_id": s}) for s in (sid, created)]
    await shop.error("session/confirm", {"session_id": sid}, 409, "invalid_session_status")
    await shop.error("session/capture", {"session_id": sid}, 409, "invalid_session_status")
    await shop.error("session/refund", {"session_id": created}, 409, "invalid_session_status")
    await shop.error(
        "session/start/payment",
        {"session_id": created, **init_body()},
        409,
        "invalid_session_status",
    )
    assert [await shop.ok("session/status", {"session_id": s}) for s in (sid, created)] == statuses
    assert await _rows_of(database_url, shop.client.project.id) == before


async def _rows_of(database_url: str, project_id: str) -> dict[str, Any]:
    """The project's sessions and ledger rows, and how many webhooks it has queued."""
    rows = await table_rows(database_url)
    mine = {t: [r for r in found if project_id in map(str, r)] for t, found in rows.items()}
    tables = ("sessions", "ledger_transactions", "ledger_postings", "vault_cards")
    return {**{t: mine[t] for t in tables}, "outbox": len(mine["outbox"])}
