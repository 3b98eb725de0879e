"""Compatibility with existing Smart Glocal / Bank 131 clients (kassa.md §8), over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from testkit import (
    SignedClient,
    assert_error,
    create_project,
    load_private,
    sign,
)

TESTS = Path(__file__).parents[1]
VECTORS = TESTS / "vectors"


def _nulls(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [k for k, v in value.items() if v is None] + [
            n for v in value.values() for n in _nulls(v)
        ]
    if isinstance(value, list):
        return [n for v in value for n in _nulls(v)]
    return []


async def test_bank131_empty_object_vector_is_accepted(server):
    """A project registered with Bank 131's public key accepts its published signature of ``{}``."""
    bank131 = await create_project(
        server.database_url, key=load_private(VECTORS / "bank131_private.pem")
    )
    client = SignedClient(server.base_url, bank131)
    signature = (VECTORS / "bank131_empty_object.sig").read_text().strip()
    try:
        response = await client.post("session/create", b"{}", headers={"X-PARTNER-SIGN": signature})
    finally:
        await client.aclose()
    assert response.status_code == 200, response.text
    assert response.json()["session"]["status"] == "created"


async def test_bank131_empty_array_vector_is_accepted(server):
    """The SDK's empty request ``[]`` with its published signature creates an empty session."""
    bank131 = await create_project(
        server.database_url, key=load_private(VECTORS / "bank131_private.pem")
    )
    client = SignedClient(server.base_url, bank131)
    signature = (VECTORS / "bank131_empty_array.sig").read_text().strip()
    try:
        response = await client.post(
            "session/create", b"[]", headers={"X-PARTNER-SIGN": signature}, version="v2"
        )
        swapped = await client.post(
            "session/create",
            b"[]",
            headers={"X-PARTNER-SIGN": (VECTORS / "bank131_empty_object.sig").read_text().strip()},
        )
    finally:
        await client.aclose()
    assert response.status_code == 200, response.text
    assert set(response.json()["session"]) == {"id", "status", "created_at", "updated_at"}
    assert_error(swapped, 401, "authentication_error")


async def test_lower_case_header_names_are_accepted(client, project):
    """Lower-case ``x-partner-project``, ``-sign`` and ``-idempotency-key``, as the SDK sends."""
    body = orjson.dumps({"metadata": "lower"})
    headers = {
        "content-type": "application/json",
        "x-partner-project": project.id,
        "x-partner-sign": sign(body, project.key),
        "x-partner-idempotency-key": "lower-key",
    }
    first = await client.http.post("/api/v2/session/create", content=body, headers=headers)
    again = await client.http.post(
        "/api/v2/session/create",
        content=body,
        headers={k.upper(): v for k, v in headers.items()},
    )
    assert first.status_code == 200, first.text
    assert again.content == first.content


async def test_sdk_version_header_does_not_matter(client):
    """``X-SDK-VERSION`` is ignored, including for idempotent replay."""
    body = {"metadata": "sdk"}
    first = await client.post(
        "session/create", body, idempotency_key="sdk-key", headers={"X-SDK-VERSION": "1.2.3"}
    )
    second = await client.post(
        "session/create", body, idempotency_key="sdk-key", headers={"X-SDK-VERSION": "9.9.9"}
    )
    third = await client.post("session/create", body, idempotency_key="sdk-key")
    assert first.status_code == 200, first.text
    assert first.content == second.content == third.content


async def test_escaped_slashes_and_raw_cyrillic_verify_over_raw_bytes(client, project):
    r"""A PHP body (``\/`` escapes, unescaped UTF-8) verifies as sent and is read correctly."""
    raw = (
        '{"amount_details":{"amount":100,"currency":"rub"},'
        '"participant_details":{"sender":{"full_name":"Иван Петров","city":"Москва"}},'
        '"payment_options":{"return_url":"https:\\/\\/shop.example\\/back?a=1&b=\\u0436"},'
        '"metadata":"заказ\\/42"}'
    ).encode()
    assert b"\\/" in raw
    assert "Иван".encode() in raw
    response = await client.post("session/create", raw)
    assert response.status_code == 200, response.text
    session = response.json()["session"]
    assert session["participant_details"]["sender"] == {
        "full_name": "Иван Петров",
        "city": "Москва",
    }
    assert session["payment_options"]["return_url"] == "https://shop.example/back?a=1&b=ж"
    assert session["metadata"] == "заказ/42"


async def test_signature_over_reserialized_json_is_refused(client, project):
    """Signing a canonical re-encoding instead of the bytes sent fails: no re-serialisation."""
    raw = (
        '{"metadata":"https:\\/\\/shop.example\\/x",'
        '"participant_details":{"sender":{"full_name":"Иван"}}}'
    ).encode()
    reserialized = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    assert reserialized != raw
    response = await client.post(
        "session/create", raw, headers={"X-PARTNER-SIGN": sign(reserialized, project.key)}
    )
    assert_error(response, 401, "authentication_error")


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_empty_array_body_is_an_empty_request(client, version):
    """``[]`` is the SDK's empty body: it creates an empty session on both versions."""
    response = await client.post("session/create", b"[]", version=version)
    assert response.status_code == 200, response.text


async def test_empty_arrays_stand_for_empty_nested_objects(client):
    """``"payment_options":[]`` and a ``faster_payment_system: []`` account read as objects."""
    body = {
        "payment_options": [],
        "customer": [],
        "payment_method": {
            "type": "bank_account",
            "bank_account": {"system_type": "faster_payment_system", "faster_payment_system": []},
        },
    }
    session = (await client.ok("session/create", body))["session"]
    assert session["payment_options"] == {}
    assert session["customer"] == {"contacts": []}  # what the PHP SDK iterates
    assert session["payment_method"]["bank_account"]["faster_payment_system"] == {}


async def test_answers_omit_null_fields_and_keep_false(client):
    """No null anywhere in an answer; ``false`` values are kept."""
    body = {
        "payment_options": {"recurrent": False, "return_url": None},
        "customer": {"reference": "u1", "contacts": None},
        "metadata": {"paid": False},
    }
    session = (await client.ok("session/create", body))["session"]
    assert _nulls(session) == []
    assert session["payment_options"] == {"recurrent": False}
    assert session["metadata"] == {"paid": False}


async def test_v2_session_answers_with_v2_names(client):
    """A session created over v2 shows ``payout_details`` (never ``payment_method``)."""
    card = {
        "type": "card",
        "card": {"type": "bank_card", "bank_card": {"number": "4242424242424242"}},
    }
    session = (await client.ok("session/create", {"payout_details": card}, version="v2"))["session"]
    assert "payout_details" in session
    assert "payment_method" not in session


@pytest.mark.parametrize(
    ("method", "body", "status"),
    [
        ("session/status", {"session_id": "ps_missing"}, 404),
        ("session/create", {"amount_details": {"amount": 0, "currency": "usd"}}, 400),
        ("session/nope", {}, 404),
    ],
)
async def test_errors_are_http_4xx_with_string_code_and_description(client, method, body, status):
    """Clients recognise errors by HTTP ≥ 400 and read string ``code``/``description``."""
    response = await client.post(method, body)
    assert response.status_code == status
    assert response.status_code >= 400
    error = response.json()["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["description"], str)
