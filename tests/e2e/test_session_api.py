"""session/create and session/status over HTTP (v1 and v2): every §3.1 field, cards masked."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from kassa.bootstrap import open_store
from testkit import (
    assert_error,
    table_rows,
)

PAN = "4242424242424242"
PAYOUT_PAN = "5555555555554444"
CVC = "987"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def bank_card(number: str = PAN) -> dict[str, Any]:
    """A clear card as a PCI DSS merchant sends it."""
    return {
        "type": "card",
        "card": {
            "type": "bank_card",
            "bank_card": {
                "number": number,
                "expiration_month": "05",
                "expiration_year": "30",
                "security_code": CVC,
                "cardholder_name": "HELEN ADAMS",
            },
        },
    }


def masked(number: str, brand: str) -> dict[str, Any]:
    """How a card is echoed: brand, last4 and bin only."""
    return {"type": "card", "card": {"brand": brand, "last4": number[-4:], "bin": number[:6]}}


PLAIN_FIELDS: dict[str, Any] = {
    "participant_details": {
        "sender": {
            "full_name": "Helen Adams",
            "first_name": "Helen",
            "last_name": "Adams",
            "city": "Miesenbach",
            "street": "Templstrasse 8",
            "ipv4": "112.34.152.137",
            "postal_code": "93401",
            "email": "helen.adams@hotmail.com",
        },
        "recipient": {"full_name": "Ivan Petrov", "bank_name": "Sandbox Bank"},
    },
    "customer": {
        "reference": "user123",
        "contacts": [{"email": "user@gmail.com"}, {"phone": "+79990000000"}],
    },
    "payment_options": {
        "return_url": "https://shop.example/back",
        "recurrent": False,
        "platform_details": {"type": "desktop", "os": "linux"},
    },
    "metadata": {"order": "123", "lines": [1, 2], "gift": False},
    "fiscalization_details": {"receipt": "r-1"},
    "custom_routing": {"tags": [{"root_tag": "a", "values": ["b"]}]},
    "revenue_split_info": [{"contractor_alias": "x", "percent": 10}],
    "payment_metadata": "pm-meta",
}


def full_request(payout_field: str) -> dict[str, Any]:
    """A session/create body with every request field of §3.1."""
    return {
        "amount_details": {"amount": 10000, "currency": "USD"},
        "payment_details": bank_card(PAN),
        payout_field: bank_card(PAYOUT_PAN),
        **PLAIN_FIELDS,
    }


def expected_echo(payout_field: str) -> dict[str, Any]:
    """What the session shows for ``full_request``."""
    return {
        "amount_details": {"amount": 10000, "currency": "usd"},
        "payment_details": masked(PAN, "visa"),
        payout_field: masked(PAYOUT_PAN, "mastercard"),
        **PLAIN_FIELDS,
    }


def _session_fields(session: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in session.items() if k not in {"id", "status", "created_at", "updated_at"}
    }


@pytest.mark.parametrize(
    ("version", "payout_field"), [("v1", "payment_method"), ("v2", "payout_details")]
)
async def test_every_create_field_is_stored_and_echoed(client, version, payout_field):
    """All §3.1 fields are accepted, echoed by create and returned unchanged by status."""
    created = await client.ok("session/create", full_request(payout_field), version=version)
    session = created["session"]
    assert _session_fields(session) == expected_echo(payout_field)
    status = await client.ok("session/status", {"session_id": session["id"]}, version=version)
    assert status["session"] == session


async def test_created_session_has_the_protocol_shape(client):
    """The answer is ``{"status":"ok","session":{id ps_…, created, ISO timestamps}}``."""
    before = datetime.now(UTC)
    data = await client.ok("session/create", {"amount_details": {"amount": 1, "currency": "jpy"}})
    assert set(data) == {"status", "session"}
    session = data["session"]
    assert re.fullmatch(r"ps_[0-9a-z]{26}", session["id"])
    assert session["status"] == "created"
    assert TIMESTAMP.match(session["created_at"])
    assert session["created_at"] == session["updated_at"]
    made = datetime.strptime(session["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert before - timedelta(seconds=5) <= made <= datetime.now(UTC) + timedelta(seconds=5)


async def test_sessions_get_distinct_ids(client):
    """Each create makes a new session."""
    ids = {(await client.ok("session/create", {}))["session"]["id"] for _ in range(5)}
    assert len(ids) == 5


async def test_absent_fields_are_omitted_not_null(client):
    """An empty create answers only id, status and times: no null, no empty placeholders."""
    session = (await client.ok("session/create", {}))["session"]
    assert set(session) == {"id", "status", "created_at", "updated_at"}


@pytest.mark.parametrize(
    "details",
    [
        {"type": "recurrent", "recurrent": {"token": "rt_1", "initiator": "merchant"}},
        {
            "type": "internet_banking",
            "internet_banking": {
                "type": "pix",
                "pix": {"name": "Ana", "email": "a@b.br", "document": "1"},
            },
        },
        {"type": "bank_account", "bank_account": {"system_type": "upi", "upi": {}}},
        {
            "type": "secured_card",
            "secured_card": {"type": "apple_pay", "apple_pay": {"token": "t"}},
        },
    ],
    ids=["recurrent", "internet_banking", "bank_account", "secured_card"],
)
async def test_other_payment_instruments_are_echoed(client, details):
    """``payment_details`` types besides card are stored and echoed as given."""
    session = (await client.ok("session/create", {"payment_details": details}))["session"]
    assert session["payment_details"] == details


@pytest.mark.parametrize(
    "method",
    [
        {
            "type": "bank_account",
            "bank_account": {
                "system_type": "faster_payment_system",
                "faster_payment_system": {
                    "phone": "79990001234",
                    "bank_id": "b1",
                    "description": "x",
                },
            },
        },
        {
            "type": "wallet",
            "wallet": {"type": "global", "global": {"name": "A", "msisdn": "639171234567"}},
        },
    ],
    ids=["bank_account", "wallet"],
)
async def test_other_payout_destinations_are_echoed(client, method):
    """``payment_method`` (v1) / ``payout_details`` (v2) accept accounts and wallets, masked."""
    v1 = (await client.ok("session/create", {"payment_method": method}))["session"]
    v2 = (await client.ok("session/create", {"payout_details": method}, version="v2"))["session"]
    text = orjson.dumps(method).decode()
    masked = text.replace("79990001234", "****1234").replace("639171234567", "****4567")
    assert v1["payment_method"] == v2["payout_details"] == orjson.loads(masked)


async def test_recurrent_security_code_is_not_kept(client):
    """A CVC sent with a recurrent token is accepted and never echoed."""
    details = {"type": "recurrent", "recurrent": {"token": "rt_1", "security_code": CVC}}
    session = (await client.ok("session/create", {"payment_details": details}))["session"]
    assert "security_code" not in session["payment_details"]["recurrent"]


async def test_vaulted_card_is_used_by_number_hash(client, server, project):
    """A card vaulted by an earlier session can pay out again as ``encrypted_card``."""
    await client.ok("session/create", {"payment_details": bank_card(PAYOUT_PAN)})
    store = await open_store(server.database_url)
    try:
        found = await store.driver.fetch(
            "SELECT number_hash FROM vault_cards WHERE project_id = ?", (project.id,)
        )
    finally:
        await store.close()
    [(number_hash,)] = found
    method = {
        "type": "card",
        "card": {"type": "encrypted_card", "encrypted_card": {"number_hash": number_hash}},
    }
    session = (await client.ok("session/create", {"payment_method": method}))["session"]
    assert session["payment_method"] == masked(PAYOUT_PAN, "mastercard")


async def test_unknown_number_hash_is_refused(client):
    """A ``number_hash`` not in the project's vault is ``invalid_request`` naming the field."""
    method = {
        "type": "card",
        "card": {"type": "encrypted_card", "encrypted_card": {"number_hash": "f" * 64}},
    }
    response = await client.post("session/create", {"payment_method": method})
    description = assert_error(response, 400, "invalid_request")
    assert description.startswith("payment_method.card.encrypted_card.number_hash")


async def test_luhn_invalid_card_is_refused_naming_the_field(client):
    """A card number failing the Luhn check is ``invalid_request`` naming the field."""
    response = await client.post(
        "session/create", {"payment_details": bank_card("4242424242424241")}
    )
    description = assert_error(response, 400, "invalid_request")
    assert description.startswith("payment_details.card.bank_card.number")
    assert "4242424242424241" not in description


@pytest.mark.parametrize(
    ("version", "wrong"),
    [("v1", "payout_details"), ("v2", "payment_method")],
)
async def test_each_version_refuses_the_other_versions_payout_name(client, version, wrong):
    """v1 bodies use ``payment_method``, v2 bodies ``payout_details``."""
    response = await client.post("session/create", {wrong: bank_card()}, version=version)
    assert wrong in assert_error(response, 400, "invalid_request")


async def test_status_in_the_other_version_uses_its_names(client):
    """A session read over v2 names its payout destination ``payout_details``."""
    session = (await client.ok("session/create", {"payment_method": bank_card(PAYOUT_PAN)}))[
        "session"
    ]
    v2 = (await client.ok("session/status", {"session_id": session["id"]}, version="v2"))["session"]
    assert v2["payout_details"] == session["payment_method"]
    assert "payment_method" not in v2


async def test_cards_are_never_stored_in_clear(client, server):
    """After card sessions on both versions, no table row holds a card number or the CVC."""
    await client.ok("session/create", full_request("payment_method"))
    await client.ok("session/create", full_request("payout_details"), version="v2")
    await client.ok(
        "session/create",
        {"payment_details": bank_card(PAN)},
        idempotency_key="card-key",
    )
    rows = await table_rows(server.database_url)
    assert rows["vault_cards"], "the cards must have been vaulted"
    dump = repr(rows)
    for number in (PAN, PAYOUT_PAN, "4242 4242 4242 4242"):
        assert number not in dump
        assert number.encode() not in b"".join(
            value
            for table in rows.values()
            for row in table
            for value in row
            if isinstance(value, bytes)
        )
    assert "security_code" not in dump
    assert f'"{CVC}"' not in dump
