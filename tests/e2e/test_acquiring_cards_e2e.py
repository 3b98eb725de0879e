"""Card data end to end: vaulted cards, start data over create data, no number in clear.

Real ``kassa serve`` (SQLite and PostgreSQL), real webhook receiver, the ``kassa`` CLI as a
subprocess; every test ends with ``kassa ledger check`` (``acquiring_e2e_kit.open_shop``).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import orjson

import acquiring_e2e_kit as kit
from acquiring_kit import card, init_body
from kassa.domain.card import luhn_valid
from testkit import kassa_cli, table_rows

if TYPE_CHECKING:
    from acquiring_e2e_kit import Shop

# The kit's fixtures, found by pytest under these names.
receiver, server_dir, open_shop = kit.receiver, kit.server_dir, kit.open_shop
acquiring_server, hurried_server = kit.acquiring_server, kit.hurried_server


def fresh_pan() -> str:
    """A random Luhn-valid Visa number outside the test-card table (approved)."""
    stem = "49" + "".join(secrets.choice("0123456789") for _ in range(13))
    pan = next(stem + d for d in "0123456789" if luhn_valid(stem + d))
    assert luhn_valid(pan)
    return pan


def tokenize(shop: Shop, number: str) -> dict[str, str]:
    """``kassa sandbox tokenize`` against the shop's server (its database and vault key)."""
    env = {
        "KASSA_DATABASE_URL": shop.server.database_url,
        "KASSA_DATA_DIR": str(shop.server.data_dir),
    }
    project = shop.client.project.id
    args = ("sandbox", "tokenize", project, number, "--month", "12", "--year", "30", "--json")
    done = kassa_cli(*args, env=env)
    found: dict[str, str] = orjson.loads(done.stdout)
    return found


def encrypted(number_hash: str) -> dict[str, Any]:
    """``payment_details`` naming a vaulted card."""
    return {
        "type": "card",
        "card": {"type": "encrypted_card", "encrypted_card": {"number_hash": number_hash}},
    }


async def test_encrypted_card_from_the_tokenization_vault(open_shop: Any) -> None:
    """CLI tokenize → token/info (brand, last4) → init/payment with encrypted_card → paid."""
    shop = await open_shop()
    vaulted = tokenize(shop, "5555555555554444")
    assert vaulted["brand"] == "mastercard"
    assert vaulted["last4"] == "4444"
    assert "5555555555554444" not in str(vaulted)
    info = await shop.ok(
        "token/info",
        {"type": "card", "card": encrypted(vaulted["number_hash"])["card"]},
    )
    assert info["info"] == {
        "number_hash": vaulted["number_hash"],
        "brand": "mastercard",
        "last4": "4444",
        "type": "card",
    }
    body = init_body() | {"payment_details": encrypted(vaulted["number_hash"])}
    session = (await shop.ok("session/init/payment", body))["session"]
    sid = session["id"]
    masked = session["acquiring_payments"][0]["payment_details"]["card"]
    assert masked == {"brand": "mastercard", "last4": "4444", "bin": "555555"}
    await shop.ok("session/confirm", {"session_id": sid})
    hooks = await shop.webhooks(sid, "ready_to_confirm", "payment_finished")
    assert hooks[1]["session"]["acquiring_payments"][0]["status"] == "succeeded"
    # a declining card keeps its answer when charged from the vault
    declined = tokenize(shop, "4000000000000002")
    body = init_body() | {"payment_details": encrypted(declined["number_hash"])}
    failed = (await shop.ok("session/init/payment", body))["session"]["acquiring_payments"][0]
    assert failed["error"]["code"] == "card_number_does_not_exist"
    # a hash this project never vaulted (or another project's) is refused, naming the field
    other = await open_shop()
    response = await other.client.post(
        "session/init/payment", init_body() | {"payment_details": encrypted(vaulted["number_hash"])}
    )
    assert response.status_code == 400
    assert response.json()["error"]["description"].startswith(
        "payment_details.card.encrypted_card.number_hash"
    )


async def test_start_values_win_over_create_values_over_http(open_shop: Any) -> None:
    """create(card A, amount, customer) → start(card B, amount) charges B for the new amount."""
    shop = await open_shop()
    created = await shop.ok(
        "session/create",
        {
            "payment_details": card("4000000000000002"),
            "amount_details": {"amount": 500, "currency": "usd"},
            "customer": {"reference": "from-create"},
            "payment_options": {"return_url": "https://shop.example/create"},
        },
    )
    sid = created["session"]["id"]
    await shop.error("session/start/payment", {"session_id": "ps_nope"}, 404, "session_not_found")
    started = await shop.ok(
        "session/start/payment",
        {
            "session_id": sid,
            "payment_details": card("4242424242424242"),
            "amount_details": {"amount": 700, "currency": "usd"},
        },
    )
    payment = started["session"]["acquiring_payments"][0]
    assert payment["status"] == "pending"
    assert payment["payment_details"]["card"]["last4"] == "4242"
    assert payment["amount_details"] == {"amount": 700, "currency": "usd"}
    assert payment["customer"] == {"reference": "from-create", "contacts": []}
    assert payment["payment_options"] == {"return_url": "https://shop.example/create"}
    [hook] = await shop.webhooks(sid, "ready_to_confirm")
    assert hook["session"]["acquiring_payments"][0]["amount_details"]["amount"] == 700
    empty = (await shop.ok("session/create", {"customer": {"reference": "c"}}))["session"]["id"]
    response = await shop.client.post(
        "session/start/payment", {"session_id": empty, "payment_details": card()}
    )
    assert response.status_code == 400
    assert response.json()["error"]["description"].startswith("amount_details")
    await shop.ok("session/cancel", {"session_id": sid})


async def test_no_card_number_in_database_logs_webhooks_or_answers(open_shop: Any) -> None:
    """After card payments of every kind the number is nowhere in clear.

    A fresh number is paid and refunded, vaulted at create and started, made recurrent and
    charged again, sent with a bad expiry and with a bad Luhn digit. Then every row of every
    table, the server's log, every webhook body and every answer is searched for it.
    """
    shop = await open_shop(auto_confirm=True)
    pan = fresh_pan()
    answers: list[str] = []

    async def call(method: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await shop.client.post(method, body)
        answers.append(response.text)
        data: dict[str, Any] = response.json()
        return data

    paid = await call("session/init/payment", init_body(pan, payment_options={"recurrent": True}))
    sid = paid["session"]["id"]
    await call(
        "session/refund", {"session_id": sid, "amount_details": {"amount": 10, "currency": "usd"}}
    )
    token = paid["session"]["acquiring_payments"][0]["recurrent"]["token"]
    charge = init_body() | {
        "payment_details": {
            "type": "recurrent",
            "recurrent": {"token": token, "initiator": "merchant"},
        }
    }
    mit = await call("session/init/payment", charge)
    created = await call("session/create", init_body(pan))
    started = await call("session/start/payment", {"session_id": created["session"]["id"]})
    assert started["session"]["status"] == "accepted"
    bad_expiry = await call(
        "session/init/payment", init_body() | {"payment_details": card(pan, month="13")}
    )
    bad_luhn = pan[:-1] + str((int(pan[-1]) + 1) % 10)
    luhn = await call("session/init/payment", init_body(bad_luhn))
    assert bad_expiry["status"] == luhn["status"] == "error"
    sessions = [sid, mit["session"]["id"], created["session"]["id"]]
    for s in sessions:
        await shop.webhooks(s, "payment_finished")
    rows = await table_rows(shop.server.database_url)
    dump = "\n".join(
        bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v)
        for found in rows.values()
        for row in found
        for v in row
    )
    assert pan[-4:] in dump  # the search does see the masked card
    hooks = b"".join(r.body for s in sessions for r in shop.receiver.for_session(s)).decode()
    for where, text in (
        ("database", dump),
        ("server log", shop.server.log()),
        ("webhooks", hooks),
        ("answers", "\n".join(answers)),
    ):
        assert pan not in text, where
        assert bad_luhn not in text, where
        assert "security_code" not in text, where
