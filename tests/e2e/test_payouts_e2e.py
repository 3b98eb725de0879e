"""Payouts end to end: a real ``kassa serve`` over HTTP, signed webhooks at a real receiver.

Every destination and sandbox outcome in v1 and v2 names, the card of the vault
(``kassa sandbox tokenize``), the confirm timeout, FPS verification and banks, a multi-session,
and the wallet on the command line. SQLite and PostgreSQL; each test ends with
``kassa ledger check`` (``acquiring_e2e_kit.open_shop``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import orjson
import pytest

import acquiring_e2e_kit as kit
from acquiring_kit import init_body
from kassa.adapters.clock import SystemClock
from kassa.bootstrap import open_store
from kassa.domain.money import Money
from kassa.service.wallet import topup
from payout_kit import account, card, fps, payout_body, payouts_of, vaulted, wallet

receiver, server_dir, open_shop = kit.receiver, kit.server_dir, kit.open_shop
acquiring_server, hurried_server = kit.acquiring_server, kit.hurried_server

OUTCOMES = [
    ("card", card(), "succeeded", None),
    ("card_0002", card("4000000000000002"), "failed", "card_number_does_not_exist"),
    ("card_9995", card("4000000000009995"), "failed", "provider_exceeds_amount_limit"),
    ("iban", account(), "succeeded", None),
    ("account_0002", account(iban=None, account_number="55550002"), "failed", "account_not_found"),
    ("wallet", wallet(), "succeeded", None),
    ("wallet_0002", wallet("639171230002"), "failed", "account_not_found"),
]


async def _fund(shop: kit.Shop, amount: int, currency: str = "usd") -> None:
    store = await open_store(shop.server.database_url)
    try:
        await topup(store, SystemClock(), shop.client.project.id, Money(amount, currency))
    finally:
        await store.close()


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize(
    ("name", "destination", "status", "code"), OUTCOMES, ids=[o[0] for o in OUTCOMES]
)
async def test_each_destination_and_outcome_over_http(  # noqa: PLR0917 - parametrised
    open_shop: Any, version: str, name: str, destination: dict[str, Any], status: str, code: str
) -> None:
    """init/payout → ready_to_confirm → confirm → payment_finished with the rail's outcome."""
    shop = await open_shop()
    await _fund(shop, 10000)
    started = await shop.ok(
        "session/init/payout", payout_body(destination, 2500, version=version), version=version
    )
    sid = started["session"]["id"]
    await shop.ok("session/confirm", {"session_id": sid}, version=version)
    ready, finished = await shop.webhooks(sid, "ready_to_confirm", "payment_finished")
    assert payouts_of(ready["session"], version)[0]["status"] == "pending"
    [payout] = payouts_of(finished["session"], version)
    assert payout["status"] == status, name
    assert payout.get("error", {}).get("code") == code
    key = "payout_details" if version == "v2" else "payment_method"
    text = orjson.dumps(finished).decode()
    for secret in ("4242424242424242", "GB82WEST12345698765432", "639171234567", "55550002"):
        assert secret not in text
    assert payout[key]["type"] == destination["type"]
    balance = await shop.ok("wallet/balance", {"request_datetime": "2026-12-01T10:00:00+00:00"})
    left = 7500 if status == "succeeded" else 10000
    assert balance["wallets"] == [
        {"id": "wl_usd", "amount_details": {"amount": left, "currency": "usd"}}
    ]


async def test_a_tokenized_card_is_paid_out_by_its_number_hash(open_shop: Any) -> None:
    """``kassa sandbox tokenize`` → encrypted_card payout; another project's hash is refused."""
    shop = await open_shop(auto_confirm=True)
    await _fund(shop, 5000)
    env = {
        **os.environ,
        "KASSA_DATABASE_URL": shop.server.database_url,
        "KASSA_DATA_DIR": str(shop.server.data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "kassa", "sandbox", "tokenize", shop.client.project.id,
         "5555555555554444", "--month", "12", "--year", "30"],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    number_hash = done.stdout.strip()
    session = (await shop.ok("session/init/payout", payout_body(vaulted(number_hash))))["session"]
    [payout] = payouts_of(session)
    assert (payout["status"], payout["payment_method"]["card"]["last4"]) == ("succeeded", "4444")
    other = await open_shop(auto_confirm=True)
    await _fund(other, 5000)
    response = await other.client.post("session/init/payout", payout_body(vaulted(number_hash)))
    assert response.status_code == 400
    assert "number_hash" in response.json()["error"]["description"]


async def test_the_confirm_timeout_fails_the_payout_and_returns_the_money(open_shop: Any) -> None:
    """No confirm within the (shrunk) timeout: failed confirm_timeout, wallet whole again."""
    shop = await open_shop(hurried=True)
    await _fund(shop, 3000)
    sid = (await shop.ok("session/init/payout", payout_body(amount=3000)))["session"]["id"]
    _, finished = await shop.webhooks(sid, "ready_to_confirm", "payment_finished")
    [payout] = payouts_of(finished["session"])
    assert payout["error"]["code"] == "confirm_timeout"
    assert finished["session"]["status"] == "cancelled"


async def test_fps_payout_verification_and_banks(open_shop: Any) -> None:
    """An FPS payout in RUB, a verification (accepted / cancelled), and GET fps/banks."""
    shop = await open_shop(auto_confirm=True)
    await _fund(shop, 50000, "rub")
    sid = (await shop.ok("session/init/payout", payout_body(fps(), 30000, "rub", recipient=None)))[
        "session"
    ]["id"]
    [finished] = await shop.webhooks(sid, "payment_finished")
    assert payouts_of(finished["session"])[0]["status"] == "succeeded"
    created = (await shop.ok("session/create", {}))["session"]["id"]
    check = {
        "session_id": created,
        "payment_method": {
            "type": "bank_account",
            "bank_account": {
                "system_type": "faster_payment_system_verification",
                "faster_payment_system_verification": {
                    "phone": "79261234567",
                    "bank_id": "100000000069",
                },
            },
        },
    }
    assert (await shop.ok("fps/customer_verification", check))["session"]["status"] == "accepted"
    await shop.webhooks(created, "payment_finished")
    banks = await shop.client.post("fps/banks", b"[]", http_method="GET")
    assert banks.status_code == 200, banks.text
    assert len(banks.json()["banks"]) >= 3


async def test_a_multi_session_over_v2(open_shop: Any) -> None:
    """A payment and a payout in one session; one confirm; webhooks for both."""
    shop = await open_shop()
    await _fund(shop, 5000)
    body = {
        "payment_list": [init_body()],
        "payout_list": [payout_body(wallet(), 800, version="v2")],
    }
    sid = (await shop.ok("session/multi/init", body, version="v2"))["session"]["id"]
    await shop.ok("session/confirm", {"session_id": sid}, version="v2")
    hooks = await shop.webhooks(sid, "ready_to_confirm")
    await kit.wait_for(lambda: "payment_finished" in shop.receiver.types(sid), 15)
    final = (await shop.ok("session/status", {"session_id": sid}, version="v2"))["session"]
    assert final["status"] == "accepted"
    assert final["payment_list"][0]["status"] == final["payout_list"][0]["status"] == "succeeded"
    assert "payout_list" in hooks[0]["session"]


def test_wallet_topup_and_balance_on_the_command_line(acquiring_server: Any) -> None:
    """``kassa wallet topup`` then ``kassa wallet balance --json``; an unknown project exits 1."""
    import asyncio

    from testkit import create_project

    project = asyncio.run(create_project(acquiring_server.database_url)).id
    env = {**os.environ, "KASSA_DATABASE_URL": acquiring_server.database_url}

    def kassa(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kassa", "wallet", *args],
            env=env, capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip

    done = kassa("topup", project, "--amount", "12345", "--currency", "EUR")
    assert done.returncode == 0, done.stderr
    assert "balance 12345" in done.stdout
    shown = kassa("balance", project, "--json")
    assert orjson.loads(shown.stdout) == {"project_id": project, "wallets": {"eur": 12345}}
    assert kassa("topup", "pj_nope", "--amount", "1", "--currency", "usd").returncode == 1
    assert kassa("topup", project, "--amount", "0", "--currency", "usd").returncode == 2
    assert kassa("topup", project, "--amount", "5", "--currency", "xyz").returncode == 2
