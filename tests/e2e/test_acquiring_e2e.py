"""Card acquiring end to end: a real ``kassa serve`` over HTTP, webhooks to a real receiver.

The server runs its in-process worker (delivery + timeout sweeper); the receiver listens on
127.0.0.1; both SQLite and PostgreSQL. One server per module and database; each test makes
its own project. A second server (same database and keys) with timeouts shrunk to seconds
runs the timeout tests. Every test ends with ``kassa ledger check``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from acquiring_kit import init_body
from kassa.adapters.keys import ServerKey, verify_any
from kassa.domain.project import ProjectSettings
from testkit import KassaServer, SignedClient, create_project, wait_for
from webhook_receiver import Receiver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

TIMEOUT = "2"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """One webhook receiver per module."""
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def server_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keys shared by the module's servers (one deployment: one server key, one vault key)."""
    return tmp_path_factory.mktemp("acquiring")


@pytest.fixture(scope="module")
def acquiring_server(module_database_url: str, server_dir: Path) -> Iterator[KassaServer]:
    """A real server with the default timeouts."""
    running = KassaServer(
        module_database_url,
        server_dir,
        KASSA_WORKER_POLL_SECONDS="0.05",
    ).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def hurried_server(module_database_url: str, server_dir: Path) -> Iterator[KassaServer]:
    """A second server on the same database with 2-second confirm, 3DS and hold timeouts."""
    running = KassaServer(
        module_database_url,
        server_dir,
        KASSA_CONFIRM_TIMEOUT_SECONDS=TIMEOUT,
        KASSA_ACTION_TIMEOUT_SECONDS=TIMEOUT,
        KASSA_HOLD_TIMEOUT_SECONDS=TIMEOUT,
        KASSA_WORKER_POLL_SECONDS="0.05",
    ).start()
    yield running
    running.stop()


def ledger_check(server: KassaServer) -> None:
    """``kassa ledger check`` against the server's database must pass."""
    env = {**os.environ, "KASSA_DATABASE_URL": server.database_url}
    done = subprocess.run(
        [sys.executable, "-m", "kassa", "ledger", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout


class Shop:
    """A project on the shared server, with its client and webhook tag."""

    def __init__(self, server: KassaServer, receiver: Receiver, client: SignedClient) -> None:
        """Bundle the pieces."""
        self.server = server
        self.receiver = receiver
        self.client = client

    async def ok(self, method: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """A signed call that must succeed."""
        return await self.client.ok(method, body, **kw)

    async def error(self, method: str, body: dict[str, Any], status: int, code: str) -> None:
        """A signed call that must fail with ``status`` and ``code``."""
        response = await self.client.post(method, body)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code

    async def webhooks(self, session_id: str, *types: str) -> list[dict[str, Any]]:
        """Wait until the session's webhooks start with ``types``; verify signatures."""
        await wait_for(lambda: self.receiver.types(session_id)[: len(types)] == list(types), 15)
        got = self.receiver.for_session(session_id)
        pem = ServerKey(self.server.data_dir / "keys" / "server_private.pem").public_pem
        for item in got:
            assert item.signature is not None
            assert verify_any(item.body, item.signature, [pem])
        return [r.json for r in got]


@pytest.fixture
async def open_shop(
    acquiring_server: KassaServer, receiver: Receiver, request: pytest.FixtureRequest
) -> AsyncIterator[Any]:
    """Factory: a project with the given settings, its webhooks going to the receiver.

    ``hurried=True`` talks to the server with 2-second timeouts instead.
    """
    clients: list[SignedClient] = []

    async def factory(*, hurried: bool = False, **settings: Any) -> Shop:
        server = request.getfixturevalue("hurried_server") if hurried else acquiring_server
        project = await create_project(
            server.database_url,
            webhook_url=receiver.url(uuid.uuid4().hex),
            settings=ProjectSettings(**settings),
        )
        client = SignedClient(server.base_url, project)
        clients.append(client)
        return Shop(server, receiver, client)

    yield factory
    for client in clients:
        await client.aclose()
    ledger_check(acquiring_server)


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
    """Each sandbox card's first webhook arrives signed, card masked, no number or CVC."""
    shop = await open_shop()
    session = (await shop.ok("session/init/payment", init_body(number)))["session"]
    [hook, *_] = await shop.webhooks(session["id"], webhook)
    payment = hook["session"]["acquiring_payments"][0]
    assert payment["payment_details"]["card"]["last4"] == number[-4:]
    assert payment.get("error", {}).get("code") == code
    raw = str(hook)
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
    redirect = session["acquiring_payments"][0]["customer_interaction"]["redirect"]
    async with httpx.AsyncClient() as browser:
        page = await browser.get(redirect["url"])
        assert page.status_code == 200
        assert "<button" in page.text
        answer = await browser.post(
            redirect["base_url"], data={"token": redirect["qs"]["token"], "result": result}
        )
    assert answer.status_code == 303
    assert answer.headers["location"] == "https://shop.example/done"
    hooks = await shop.webhooks(session["id"], "action_required", final)
    if result == "fail":
        assert hooks[1]["session"]["acquiring_payments"][0]["error"]["code"] == "3DS_error"
    else:
        await shop.ok("session/confirm", {"session_id": session["id"]})
        await shop.webhooks(session["id"], "action_required", final, "payment_finished")


async def test_auto_confirm_sends_only_payment_finished(open_shop: Any) -> None:
    """An auto_confirm project's payment succeeds without ready_to_confirm."""
    shop = await open_shop(auto_confirm=True)
    sid = (await shop.ok("session/init/payment", init_body()))["session"]["id"]
    hooks = await shop.webhooks(sid, "payment_finished")
    assert hooks[0]["session"]["acquiring_payments"][0]["status"] == "succeeded"


async def test_delayed_capture_partial_then_refunds(open_shop: Any) -> None:
    """Hold → partial capture → two partial refunds → refund_amount_exceeded."""
    shop = await open_shop(two_step_capture=True)
    sid = (await shop.ok("session/init/payment", init_body()))["session"]["id"]
    await shop.webhooks(sid, "ready_to_capture")
    amount = {"amount": 7000, "currency": "usd"}
    await shop.ok("session/capture", {"session_id": sid, "amount_details": amount})
    for part in (3000, 4000):
        await shop.ok(
            "session/refund",
            {"session_id": sid, "amount_details": {"amount": part, "currency": "usd"}},
        )
    await shop.error("session/refund", {"session_id": sid}, 422, "refund_amount_exceeded")
    hooks = await shop.webhooks(
        sid, "ready_to_capture", "payment_finished", "payment_refunded", "payment_refunded"
    )
    refunds = hooks[-1]["session"]["acquiring_payments"][0]["refunds"]
    assert [r["status"] for r in refunds] == ["accepted", "accepted"]


async def test_cancel_releases_a_hold(open_shop: Any) -> None:
    """session/cancel after ready_to_capture releases the hold."""
    shop = await open_shop(two_step_capture=True)
    sid = (await shop.ok("session/init/payment", init_body()))["session"]["id"]
    await shop.ok("session/cancel", {"session_id": sid})
    await shop.webhooks(sid, "ready_to_capture", "payment_finished")


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
    assert hooks[1]["session"]["acquiring_payments"][0]["refunds"][0]["is_chargeback"] is True


async def test_recurrent_token_mit_cit_and_disable(open_shop: Any) -> None:
    """recurrent=true gives a token; MIT charges it; CIT asks for 3DS; disabled → inactive."""
    shop = await open_shop(auto_confirm=True)
    first = await shop.ok("session/init/payment", init_body(payment_options={"recurrent": True}))
    token = first["session"]["acquiring_payments"][0]["recurrent"]["token"]
    charge = {
        "payment_details": {
            "type": "recurrent",
            "recurrent": {"token": token, "initiator": "merchant"},
        },
        "amount_details": {"amount": 990, "currency": "usd"},
        "customer": {"reference": "lucky"},
    }
    mit = (await shop.ok("session/init/payment", charge))["session"]
    await shop.webhooks(mit["id"], "payment_finished")
    cit_body = charge | {
        "payment_details": {
            "type": "recurrent",
            "recurrent": {"token": token, "initiator": "client"},
        },
        "payment_options": {"return_url": "https://shop.example/r"},
    }
    cit = (await shop.ok("session/init/payment", cit_body))["session"]
    await shop.webhooks(cit["id"], "action_required")
    info = await shop.ok(
        "token/info", {"type": "recurrent_token", "recurrent_token": {"token": token}}
    )
    assert info["info"]["is_active"] is True
    await shop.ok("recurrent/disable", {"recurrent": {"token": token}})
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
    await shop.ok(
        "session/refund", {"session_id": sid, "amount_details": {"amount": 5001, "currency": "usd"}}
    )
    await shop.webhooks(sid, "payment_finished", "payment_refunded")


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
    sid = (await shop.ok("session/init/payment", init_body()))["session"]["id"]
    await shop.ok("session/confirm", {"session_id": sid})
    before = await shop.ok("session/status", {"session_id": sid})
    await shop.error("session/confirm", {"session_id": sid}, 409, "invalid_session_status")
    await shop.error("session/capture", {"session_id": sid}, 409, "invalid_session_status")
    assert await shop.ok("session/status", {"session_id": sid}) == before
    created = (await shop.ok("session/create", {}))["session"]["id"]
    await shop.error("session/refund", {"session_id": created}, 409, "invalid_session_status")
    await shop.ok("session/cancel", {"session_id": created})
    await shop.error(
        "session/start/payment",
        {"session_id": created, **init_body()},
        409,
        "invalid_session_status",
    )
