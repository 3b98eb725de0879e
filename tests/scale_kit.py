"""The payment flows of the scale-out and pgbouncer tests, each over HTTP to its last webhook.

A flow gets a ``Shop`` (``acquiring_e2e_kit``) whose project has the settings it needs
(``FLOWS`` names them), drives one session from start to finish and returns the session id
with the webhook types it must have received, in order and once each. ``check_outbox``
then holds the database to the same: every outbox row of the projects delivered at the first
attempt, each session's rows in the order the receiver saw them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import httpx

from acquiring_e2e_kit import Shop, press_on_3ds_page
from acquiring_kit import init_body
from kassa.adapters.clock import SystemClock
from kassa.bootstrap import open_store
from kassa.domain.money import Money
from kassa.domain.project import ProjectSettings
from kassa.service.wallet import topup
from payout_kit import payout_body
from testkit import KassaServer, SignedClient, create_project, raw_driver

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from webhook_receiver import Receiver

Flow = tuple[str, list[str]]  # session id, the webhook types it ends with


async def open_shop(
    server: KassaServer, receiver: Receiver, *, fresh_connections: bool = False, **settings: Any
) -> Shop:
    """A project on ``server`` with ``settings``, its webhooks going to ``receiver``.

    ``fresh_connections``: a new TCP connection per request, so the kernel hands each request
    to whichever API process accepts first (one kept-alive connection stays with one).
    """
    project = await create_project(
        server.database_url,
        webhook_url=receiver.url(uuid.uuid4().hex),
        settings=ProjectSettings(**settings),
    )
    client = SignedClient(server.base_url, project)
    if fresh_connections:
        await client.http.aclose()
        client.http = httpx.AsyncClient(
            base_url=server.base_url,
            timeout=30.0,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
    return Shop(server, receiver, client)


async def card_confirm(shop: Shop) -> Flow:
    """init/payment → ready_to_confirm → confirm → payment_finished (accepted)."""
    sid = (await shop.ok("session/init/payment", init_body()))["session"]["id"]
    await shop.webhooks(sid, "ready_to_confirm")
    await shop.ok("session/confirm", {"session_id": sid})
    hooks = await shop.webhooks(sid, "ready_to_confirm", "payment_finished")
    assert hooks[1]["session"]["status"] == "accepted"
    return sid, ["ready_to_confirm", "payment_finished"]


async def create_then_start(shop: Shop) -> Flow:
    """session/create, then session/start/payment on it, confirm: payment_finished."""
    created = await shop.ok(
        "session/create", {"amount_details": {"amount": 500, "currency": "eur"}}
    )
    sid = created["session"]["id"]
    body = {k: v for k, v in init_body().items() if k != "amount_details"}
    await shop.ok("session/start/payment", {"session_id": sid, **body})
    await shop.webhooks(sid, "ready_to_confirm")
    await shop.ok("session/confirm", {"session_id": sid})
    hooks = await shop.webhooks(sid, "ready_to_confirm", "payment_finished")
    assert hooks[1]["session"]["acquiring_payments"][0]["status"] == "succeeded"
    return sid, ["ready_to_confirm", "payment_finished"]


async def three_ds(shop: Shop) -> Flow:
    """The 3DS card: the /3ds page passed by a 'person', then confirm."""
    body = init_body("4000000000003220", payment_options={"return_url": "https://shop.example/r"})
    session = (await shop.ok("session/init/payment", body))["session"]
    redirect = session["acquiring_payments"][0]["customer_interaction"]["redirect"]
    answer = await press_on_3ds_page(redirect, "Pass")
    assert answer.status_code == 303
    await shop.webhooks(session["id"], "action_required", "ready_to_confirm")
    await shop.ok("session/confirm", {"session_id": session["id"]})
    types = ["action_required", "ready_to_confirm", "payment_finished"]
    hooks = await shop.webhooks(session["id"], *types)
    assert hooks[2]["session"]["acquiring_payments"][0]["status"] == "succeeded"
    return session["id"], types


async def two_step_capture_refund(shop: Shop) -> Flow:
    """A hold (two_step_capture project), captured in part, then refunded in part."""
    sid = (await shop.ok("session/init/payment", init_body()))["session"]["id"]
    await shop.webhooks(sid, "ready_to_capture")
    amount = {"amount": 7000, "currency": "usd"}
    await shop.ok("session/capture", {"session_id": sid, "amount_details": amount})
    await shop.webhooks(sid, "ready_to_capture", "payment_finished")
    part = {"amount": 2500, "currency": "usd"}
    await shop.ok("session/refund", {"session_id": sid, "amount_details": part})
    types = ["ready_to_capture", "payment_finished", "payment_refunded"]
    hooks = await shop.webhooks(sid, *types)
    [refund] = hooks[2]["session"]["acquiring_payments"][0]["refunds"]
    assert (refund["status"], refund["amount_details"]["amount"]) == ("accepted", 2500)
    return sid, types


async def confirm_then_refund(shop: Shop) -> Flow:
    """A confirmed payment refunded in full."""
    sid, types = await card_confirm(shop)
    await shop.ok("session/refund", {"session_id": sid})
    hooks = await shop.webhooks(sid, *types, "payment_refunded")
    assert hooks[-1]["session"]["acquiring_payments"][0]["refunds"][0]["status"] == "accepted"
    return sid, [*types, "payment_refunded"]


async def cancel(shop: Shop) -> Flow:
    """session/cancel of a payment waiting for confirm: payment_finished, failed/cancelled."""
    sid = (await shop.ok("session/init/payment", init_body()))["session"]["id"]
    await shop.webhooks(sid, "ready_to_confirm")
    await shop.ok("session/cancel", {"session_id": sid})
    hooks = await shop.webhooks(sid, "ready_to_confirm", "payment_finished")
    assert hooks[1]["session"]["status"] == "cancelled"
    return sid, ["ready_to_confirm", "payment_finished"]


async def fund(database_url: str, project_id: str, amount: int = 100_000) -> None:
    """Top up the project's payout wallet (USD) straight in the database."""
    store = await open_store(database_url)
    try:
        await topup(store, SystemClock(), project_id, Money(amount, "usd"))
    finally:
        await store.close()


async def payout(shop: Shop) -> Flow:
    """From a funded wallet: init/payout → confirm → payment_finished, the wallet debited."""
    await fund(shop.server.database_url, shop.client.project.id)
    sid = (await shop.ok("session/init/payout", payout_body(amount=2500)))["session"]["id"]
    await shop.ok("session/confirm", {"session_id": sid})
    hooks = await shop.webhooks(sid, "ready_to_confirm", "payment_finished")
    assert hooks[1]["session"]["payments"][0]["status"] == "succeeded"
    balance = await shop.ok("wallet/balance", {"request_datetime": "2026-12-01T10:00:00+00:00"})
    assert balance["wallets"][0]["amount_details"] == {"amount": 97500, "currency": "usd"}
    return sid, ["ready_to_confirm", "payment_finished"]


# Each flow with the project settings it runs under.
FLOWS: list[tuple[Callable[[Shop], Awaitable[Flow]], dict[str, bool]]] = [
    (card_confirm, {}),
    (create_then_start, {}),
    (three_ds, {}),
    (two_step_capture_refund, {"two_step_capture": True}),
    (confirm_then_refund, {}),
    (cancel, {}),
    (payout, {}),
]


async def check_outbox(database_url: str, receiver: Receiver, flows: list[Flow]) -> set[str]:
    """Every webhook of ``flows`` arrived once, in per-session outbox order, first attempt.

    Returns the lease owners (``host:pid:random``) that made the delivery attempts.
    """
    for sid, types in flows:
        assert receiver.types(sid) == types, (sid, receiver.types(sid), types)
    sessions = [sid for sid, _ in flows]
    marks = ", ".join("?" * len(sessions))
    driver = await raw_driver(database_url)
    try:
        rows = await driver.fetch(
            f"SELECT o.id, o.session_id, o.event_type, o.status, o.attempts, a.worker "
            f"FROM outbox o LEFT JOIN delivery_attempts a ON a.outbox_id = o.id "
            f"WHERE o.session_id IN ({marks}) ORDER BY o.id",
            sessions,
        )
    finally:
        await driver.close()
    by_session: dict[str, list[str]] = defaultdict(list)
    for _id, sid, event_type, status, attempts, _worker in rows:
        assert (status, attempts) == ("delivered", 1), (sid, event_type, status, attempts)
        by_session[sid].append(event_type)
    assert dict(by_session) == dict(flows)  # one attempt row each
    return {str(row[5]) for row in rows}
