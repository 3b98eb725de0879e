"""Error answers become the exception tree: one class per protocol code, ``ApiError`` otherwise."""

from __future__ import annotations

import httpx
import pytest
from sdk_kit import Wire, close, error, invoke, make

import kassa_client
from kassa_client import errors

CODES = [
    ("authentication_error", 401, kassa_client.AuthenticationError),
    ("identification_error", 401, kassa_client.IdentificationError),
    ("invalid_request", 400, kassa_client.InvalidRequestError),
    ("idempotency_key_already_exists", 400, kassa_client.IdempotencyConflictError),
    ("session_not_found", 404, kassa_client.SessionNotFoundError),
    ("invalid_session_status", 409, kassa_client.InvalidSessionStatusError),
    ("insufficient_funds", 422, kassa_client.InsufficientFundsError),
    ("refund_amount_exceeded", 422, kassa_client.RefundAmountExceededError),
    ("recurrent_token_inactive", 422, kassa_client.RecurrentTokenInactiveError),
    ("internal_error", 500, kassa_client.InternalServerError),
]


@pytest.mark.parametrize(("code", "status", "cls"), CODES, ids=[c[0] for c in CODES])
async def test_each_protocol_code_raises_its_class(kind, waits, code, status, cls):
    """The class, code, description, HTTP status and the session the call named."""
    wire = Wire(error(status, code, "what went wrong"))
    client = make(kind, wire, max_retries=0)
    try:
        with pytest.raises(cls) as caught:
            await invoke(client, "confirm", "ps_9")
    finally:
        await close(client)
    exc = caught.value
    assert type(exc) is cls
    assert isinstance(exc, kassa_client.ApiError)
    assert isinstance(exc, kassa_client.KassaClientError)
    assert (exc.code, exc.description, exc.http_status) == (code, "what went wrong", status)
    assert exc.session_id == "ps_9"
    assert exc.idempotency_key == wire.last.headers["x-partner-idempotency-key"]
    assert code in str(exc)


async def test_unknown_code_is_a_plain_api_error(kind):
    """A code the client does not know (Bank 131 has many) is ``ApiError`` with that code."""
    wire = Wire(error(403, "authorization_error"))
    client = make(kind, wire)
    try:
        with pytest.raises(kassa_client.ApiError) as caught:
            await invoke(client, "session_status", "ps_1")
    finally:
        await close(client)
    assert type(caught.value) is kassa_client.ApiError
    assert caught.value.code == "authorization_error"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(502, text="<html>Bad Gateway</html>"),
        httpx.Response(200, text="not json"),
        httpx.Response(200, json={"status": "ok"}),
        httpx.Response(200, json={"status": "ok", "session": {"id": "ps_1"}}),
        httpx.Response(200, json=[1, 2]),
        httpx.Response(404, json={"detail": "Not Found"}),
    ],
    ids=["html-502", "not-json", "no-session", "bad-session", "array", "no-envelope"],
)
async def test_answers_outside_the_protocol_raise_unexpected_response(kind, waits, answer):
    """Not JSON, no envelope, or a session without its required fields."""
    wire = Wire(answer)
    client = make(kind, wire, max_retries=0)
    try:
        with pytest.raises(kassa_client.UnexpectedResponseError) as caught:
            await invoke(client, "session_status", "ps_1")
    finally:
        await close(client)
    assert caught.value.http_status == answer.status_code
    assert caught.value.code == "unexpected_response"


async def test_status_error_with_http_200_is_still_an_error(kind):
    """A server that says ``status: error`` with HTTP 200 is not read as a success."""
    body = {"status": "error", "error": {"code": "session_not_found", "description": "x"}}
    wire = Wire(httpx.Response(200, json=body))
    client = make(kind, wire)
    try:
        with pytest.raises(kassa_client.SessionNotFoundError):
            await invoke(client, "session_status", "ps_1")
    finally:
        await close(client)


def test_the_docstring_tree_names_every_exception_class():
    """``errors.py`` draws its tree; every exception class it defines is in the drawing."""
    doc = errors.__doc__ or ""
    classes = [
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, Exception)
    ]
    assert len(classes) == 16
    for name in classes:
        assert f"── {name}" in doc or doc.startswith(name) or f"\n{name} " in doc, name


def test_raw_request_returns_error_answers_instead_of_raising():
    """``Client.request`` is the low-level call: the answer comes back as it is."""
    wire = Wire(error(404, "session_not_found"))
    client = make("sync", wire)
    answer = client.request("session/status", {"session_id": "ps_x"})  # type: ignore[union-attr]
    client.close()  # type: ignore[union-attr]
    assert answer.status_code == 404
    assert answer.is_error
    assert answer.error_code() == "session_not_found"
    assert answer.json()["status"] == "error"
