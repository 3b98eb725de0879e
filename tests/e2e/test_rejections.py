"""Every failure answers the error envelope with the design table's HTTP status (kassa.md §3).

Each rejected request is also checked to write nothing: every row of every table (not only the
counts: an UPDATE would keep them) is the same before and after it.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import orjson
import pytest

from kassa.adapters.keys import generate_private_key
from testkit import (
    KassaServer,
    SignedClient,
    assert_error,
    create_project,
    sign,
    table_rows,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import httpx


BODY = {"amount_details": {"amount": 10000, "currency": "usd"}, "metadata": "order123"}


async def rejected(
    server: KassaServer,
    send: Callable[[], Awaitable[httpx.Response]],
    status: int,
    code: str,
) -> str:
    """Send, assert the error envelope and that no row of any table changed; return the text."""
    before = await table_rows(server.database_url)
    response = await send()
    description = assert_error(response, status, code)
    assert await table_rows(server.database_url) == before
    return description


def raw_post(
    client: SignedClient, body: bytes, headers: dict[str, str], path: str = "/api/v1/session/create"
):
    """A POST with exactly these headers (no signing added)."""
    return client.http.post(
        path, content=body, headers={"Content-Type": "application/json", **headers}
    )


# --- identification (401) -----------------------------------------------------------------


async def test_missing_project_header_is_an_identification_error(server, client):
    """No ``X-PARTNER-PROJECT``: 401 identification_error."""
    body = orjson.dumps(BODY)
    headers = {"X-PARTNER-SIGN": sign(body, client.project.key)}
    await rejected(server, lambda: raw_post(client, body, headers), 401, "identification_error")


async def test_unknown_project_is_an_identification_error(server, client):
    """A project id kassa never issued: 401 identification_error."""
    body = orjson.dumps(BODY)
    headers = {"X-PARTNER-PROJECT": "pj_nope", "X-PARTNER-SIGN": sign(body, client.project.key)}
    await rejected(server, lambda: raw_post(client, body, headers), 401, "identification_error")


# --- authentication (401) -----------------------------------------------------------------


async def test_missing_signature_is_an_authentication_error(server, client):
    """No ``X-PARTNER-SIGN``: 401 authentication_error."""
    headers = {"X-PARTNER-PROJECT": client.project.id}
    await rejected(
        server, lambda: raw_post(client, orjson.dumps(BODY), headers), 401, "authentication_error"
    )


@pytest.mark.parametrize("garbled", ["%%%not-base64%%%", "QUJD", "", "A" * 5000, "QUJD RA=="])
async def test_garbled_signature_is_an_authentication_error(server, client, garbled):
    """A signature that is not base64 of a real signature: 401 authentication_error."""
    headers = {"X-PARTNER-PROJECT": client.project.id, "X-PARTNER-SIGN": garbled}
    await rejected(
        server, lambda: raw_post(client, orjson.dumps(BODY), headers), 401, "authentication_error"
    )


async def test_signature_of_another_body_is_rejected(server, client):
    """A valid signature over different bytes: 401 authentication_error."""
    headers = {
        "X-PARTNER-PROJECT": client.project.id,
        "X-PARTNER-SIGN": sign(b"{}", client.project.key),
    }
    await rejected(
        server, lambda: raw_post(client, orjson.dumps(BODY), headers), 401, "authentication_error"
    )


@pytest.mark.parametrize("position", [0, 25, -2])
async def test_body_changed_by_one_byte_is_rejected(server, client, position):
    """Signed, then one byte of the body changed in transit: 401 authentication_error."""
    signed = orjson.dumps(BODY)
    tampered = bytearray(signed)
    tampered[position] = ord("9") if tampered[position] != ord("9") else ord("8")
    headers = {
        "X-PARTNER-PROJECT": client.project.id,
        "X-PARTNER-SIGN": sign(signed, client.project.key),
    }
    await rejected(
        server, lambda: raw_post(client, bytes(tampered), headers), 401, "authentication_error"
    )


async def test_signature_by_another_projects_key_is_rejected(server, client):
    """A body signed with another project's key: 401 authentication_error."""
    other = await create_project(server.database_url)
    await rejected(
        server,
        lambda: client.post("session/create", BODY, key=other.key),
        401,
        "authentication_error",
    )


async def test_signature_by_an_unregistered_key_is_rejected(server, client):
    """A body signed with any other RSA key: 401 authentication_error."""
    stranger = generate_private_key()
    await rejected(
        server,
        lambda: client.post("session/create", BODY, key=stranger),
        401,
        "authentication_error",
    )


async def test_url_safe_base64_signature_is_rejected(server, client):
    """The header is standard base64; the URL-safe alphabet is not accepted."""
    body = orjson.dumps(BODY)
    standard = sign(body, client.project.key)
    raw = base64.b64decode(standard)
    urlsafe = base64.urlsafe_b64encode(raw).decode()
    if urlsafe == standard:  # pragma: no cover - needs a '+' or '/' to differ; retry the body
        body = orjson.dumps({**BODY, "metadata": "order124"})
        urlsafe = base64.urlsafe_b64encode(
            base64.b64decode(sign(body, client.project.key))
        ).decode()
    headers = {"X-PARTNER-PROJECT": client.project.id, "X-PARTNER-SIGN": urlsafe}
    await rejected(server, lambda: raw_post(client, body, headers), 401, "authentication_error")


# --- invalid requests (400) -----------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{", b"{'amount': 1}", b'{"a": 1,}', b"\xff\xfe\x00"])
async def test_malformed_json_is_invalid_request(server, client, body):
    """Signed but unparsable JSON: 400 invalid_request naming the body."""
    description = await rejected(
        server, lambda: client.post("session/create", body), 400, "invalid_request"
    )
    assert description.startswith("body: ")


@pytest.mark.parametrize("body", [b'"text"', b"42", b"[1, 2]", b"null"])
async def test_non_object_json_is_invalid_request(server, client, body):
    """A JSON value that is not an object: 400 invalid_request naming the body."""
    description = await rejected(
        server, lambda: client.post("session/create", body), 400, "invalid_request"
    )
    assert description.startswith("body: ")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount_details": {"amount": 0, "currency": "usd"}}, "amount_details.amount"),
        ({"amount_details": {"amount": -100, "currency": "usd"}}, "amount_details.amount"),
        ({"amount_details": {"amount": 100.5, "currency": "usd"}}, "amount_details.amount"),
        ({"amount_details": {"amount": 100.0, "currency": "usd"}}, "amount_details.amount"),
        ({"amount_details": {"amount": "100", "currency": "usd"}}, "amount_details.amount"),
        ({"amount_details": {"currency": "usd"}}, "amount_details.amount"),
        ({"amount_details": {"amount": 100, "currency": "xyz"}}, "amount_details.currency"),
        ({"amount_details": {"amount": 100, "currency": 840}}, "amount_details.currency"),
        ({"amount_details": "100 usd"}, "amount_details"),
        ({"payment_details": {"type": "cash"}}, "payment_details"),
        (
            {"payment_details": {"type": "card", "card": {"type": "bank_card"}}},
            "payment_details.card",
        ),
        (
            {
                "payment_method": {
                    "type": "card",
                    "card": {"type": "bank_card", "bank_card": {"number": 42}},
                }
            },
            "payment_method.card.bank_card.number",
        ),
        ({"customer": {"reference": 7}}, "customer.reference"),
        ({"customer": {"contacts": [{"email": 5}]}}, "customer.contacts[0].email"),
        (
            {"participant_details": {"sender": {"full_name": ["x"]}}},
            "participant_details.sender.full_name",
        ),
        ({"payment_options": {"recurrent": "yes"}}, "payment_options.recurrent"),
        ({"payment_options": {"return_url": 5}}, "payment_options.return_url"),
    ],
    ids=[
        "amount-zero",
        "amount-negative",
        "amount-float",
        "amount-float-whole",
        "amount-string",
        "amount-missing",
        "currency-unknown",
        "currency-number",
        "amount-details-string",
        "payment-type-unknown",
        "card-branch-missing",
        "card-number-int",
        "customer-reference-int",
        "contact-email-int",
        "sender-name-list",
        "recurrent-flag-string",
        "return-url-int",
    ],
)
async def test_schema_violation_is_invalid_request_naming_the_field(server, client, body, field):
    """Wrong types, unknown currency, amount ≤ 0 or a float: 400 naming the field."""
    description = await rejected(
        server, lambda: client.post("session/create", body), 400, "invalid_request"
    )
    assert description.startswith(f"{field}: "), description


async def test_status_without_session_id_is_invalid_request(server, client):
    """``session/status`` needs ``session_id``."""
    description = await rejected(
        server, lambda: client.post("session/status", {}), 400, "invalid_request"
    )
    assert description.startswith("session_id: ")


async def test_failed_card_with_idempotency_key_writes_nothing(server, client):
    """A request refused inside the use case releases its idempotency key: no row remains."""
    card = {
        "type": "card",
        "card": {"type": "bank_card", "bank_card": {"number": "4242424242424241"}},
    }
    await rejected(
        server,
        lambda: client.post("session/create", {"payment_details": card}, idempotency_key="k-bad"),
        400,
        "invalid_request",
    )


async def test_rejected_request_with_idempotency_key_writes_nothing(server, client):
    """An authentication failure carrying an idempotency key stores no key."""
    stranger = generate_private_key()
    await rejected(
        server,
        lambda: client.post("session/create", BODY, key=stranger, idempotency_key="k-auth"),
        401,
        "authentication_error",
    )


# --- size and routing ---------------------------------------------------------------------


async def test_body_over_one_mebibyte_is_413(server, client):
    """A body larger than 1 MiB: 413 invalid_request (before any parsing)."""
    body = b'{"metadata":"' + b"x" * (1024 * 1024) + b'"}'
    await rejected(server, lambda: client.post("session/create", body), 413, "invalid_request")


async def test_body_of_exactly_one_mebibyte_is_accepted(client):
    """The limit is inclusive: a 1 MiB body is read and processed."""
    prefix, suffix = b'{"metadata":"', b'"}'
    body = prefix + b"x" * (1024 * 1024 - len(prefix) - len(suffix)) + suffix
    assert len(body) == 1024 * 1024
    response = await client.post("session/create", body)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "path",
    ["/api/v1/session/nope", "/api/v3/session/create", "/api/v1/fps/banks-nope", "/nope"],
)
async def test_unknown_method_path_is_404(server, client, path):
    """A path that names no method: 404 in the error envelope."""
    body = orjson.dumps(BODY)
    headers = {
        "X-PARTNER-PROJECT": client.project.id,
        "X-PARTNER-SIGN": sign(body, client.project.key),
    }
    await rejected(server, lambda: raw_post(client, body, headers, path), 404, "invalid_request")


async def test_wrong_http_method_is_an_error_envelope(server, client):
    """``GET`` on a POST method is refused with the envelope and a 4xx status."""
    response = await client.http.get("/api/v1/session/create")
    assert_error(response, 405, "invalid_request")


# --- sessions of other projects (404, no leak) ----------------------------------------------


async def test_other_projects_session_is_not_found_like_a_missing_one(server, client):
    """Asking for another project's session answers exactly as for an id that never existed."""
    owner_session = (await client.ok("session/create", BODY))["session"]["id"]
    other = SignedClient(server.base_url, await create_project(server.database_url))
    try:
        foreign = await rejected(
            server,
            lambda: other.post("session/status", {"session_id": owner_session}),
            404,
            "session_not_found",
        )
        missing_id = "ps_" + "0" * 26
        missing = await rejected(
            server,
            lambda: other.post("session/status", {"session_id": missing_id}),
            404,
            "session_not_found",
        )
    finally:
        await other.aclose()
    assert foreign.replace(owner_session, "<id>") == missing.replace(missing_id, "<id>")
    assert (await client.ok("session/status", {"session_id": owner_session}))["session"][
        "id"
    ] == owner_session


async def test_error_codes_and_descriptions_are_strings(server, client):
    """Every kind of error above carries string ``code`` and ``description`` (checked centrally)."""
    responses: list[Any] = [
        await client.post("session/status", {"session_id": "ps_x"}),
        await client.post("session/create", b"{"),
        await raw_post(client, b"{}", {}),
    ]
    assert [r.status_code for r in responses] == [404, 400, 401]
    for response in responses:
        error = response.json()["error"]
        assert isinstance(error["code"], str)
        assert isinstance(error["description"], str)
        assert error["description"]


async def test_chunked_body_over_one_mebibyte_is_413(server, client):
    """Without Content-Length (chunked upload) the limit holds while streaming."""
    body = b'{"metadata":"' + b"x" * (1024 * 1024) + b'"}'
    headers = {
        "Content-Type": "application/json",
        "X-PARTNER-PROJECT": client.project.id,
        "X-PARTNER-SIGN": sign(body, client.project.key),
    }

    async def chunks():
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    async def send() -> httpx.Response:
        return await client.http.post("/api/v1/session/create", content=chunks(), headers=headers)

    await rejected(server, send, 413, "invalid_request")


@pytest.mark.parametrize(
    ("method", "extra"),
    [
        ("session/confirm", {}),
        ("session/cancel", {}),
        ("session/capture", {}),
        ("session/refund", {"amount_details": {"amount": 100, "currency": "usd"}}),
        (
            "session/start/payment",
            {
                "payment_details": {
                    "type": "card",
                    "card": {"type": "bank_card", "bank_card": {"number": "4242424242424242"}},
                },
                "amount_details": {"amount": 100, "currency": "usd"},
                "customer": {"reference": "u1"},
            },
        ),
    ],
)
async def test_acting_on_another_projects_session_is_not_found(server, client, method, extra):
    """Mutating methods on another project's session: 404 as for a missing id, nothing written."""
    owner_session = (await client.ok("session/create", BODY))["session"]["id"]
    other = SignedClient(server.base_url, await create_project(server.database_url))
    try:
        foreign = await rejected(
            server,
            lambda: other.post(method, {"session_id": owner_session, **extra}),
            404,
            "session_not_found",
        )
        missing_id = "ps_" + "0" * 26
        missing = await rejected(
            server,
            lambda: other.post(method, {"session_id": missing_id, **extra}),
            404,
            "session_not_found",
        )
    finally:
        await other.aclose()
    assert foreign.replace(owner_session, "<id>") == missing.replace(missing_id, "<id>")
    session = (await client.ok("session/status", {"session_id": owner_session}))["session"]
    assert session["status"] == "created"
