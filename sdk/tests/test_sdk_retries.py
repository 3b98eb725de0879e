"""Retries over ``httpx.MockTransport``: what is retried, with which bytes and key, how long."""

from __future__ import annotations

import httpx
import pytest
from sdk_kit import SESSION, Wire, close, error, invoke, make, ok

from kassa_client import (
    IdempotencyConflictError,
    InternalServerError,
    InvalidRequestError,
    SessionNotFoundError,
    TransportError,
)
from kassa_client._transport import RetryPolicy, retry_after

DROPPED = httpx.ReadError("connection reset after the request was sent")
REFUSED = httpx.ConnectError("connection refused")


async def _create(kind: str, wire: Wire, **options):
    client = make(kind, wire, **options)
    try:
        return await invoke(client, "create_session", metadata="m")
    finally:
        await close(client)


def _same_bytes_and_key(wire: Wire) -> None:
    first = wire.requests[0]
    for later in wire.requests[1:]:
        assert later.content == first.content
        assert later.headers["x-partner-sign"] == first.headers["x-partner-sign"]
        assert (
            later.headers["x-partner-idempotency-key"] == first.headers["x-partner-idempotency-key"]
        )


@pytest.mark.parametrize(
    "failure",
    [
        DROPPED,
        REFUSED,
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("server hung up"),
        error(500, "internal_error"),
        error(503, "internal_error"),
        error(429, "too_many_requests"),
    ],
    ids=["dropped", "refused", "timeout", "protocol", "500", "503", "429"],
)
async def test_failure_then_success_is_retried_with_the_same_bytes_and_key(kind, waits, failure):
    """Network errors, timeouts, 429 and 5xx are retried; every attempt is the same request."""
    wire = Wire(failure, failure, ok("session", SESSION))
    session = await _create(kind, wire)
    assert session.id == "ps_1"
    assert len(wire.requests) == 3
    _same_bytes_and_key(wire)
    assert len(waits) == 2


@pytest.mark.parametrize(
    ("answer", "exc"),
    [
        (error(400, "invalid_request"), InvalidRequestError),
        (error(404, "session_not_found"), SessionNotFoundError),
        (error(400, "idempotency_key_already_exists"), IdempotencyConflictError),
        (error(409, "invalid_session_status"), Exception),
        (error(401, "authentication_error"), Exception),
    ],
    ids=["400", "404", "400-key-without-retry-after", "409", "401"],
)
async def test_4xx_is_never_retried(kind, waits, answer, exc):
    """A 4xx answer is raised at once: one request, no wait."""
    wire = Wire(answer, ok("session", SESSION))
    with pytest.raises(exc):
        await _create(kind, wire)
    assert len(wire.requests) == 1
    assert waits == []


async def test_key_in_flight_with_retry_after_waits_and_retries(kind, waits):
    """``400 idempotency_key_already_exists`` + ``Retry-After: 2``: wait 2 s, resend the same."""
    busy = error(400, "idempotency_key_already_exists", "in progress", **{"Retry-After": "2"})
    wire = Wire(busy, busy, ok("session", SESSION))
    session = await _create(kind, wire)
    assert session.id == "ps_1"
    assert waits == [2.0, 2.0]
    _same_bytes_and_key(wire)


async def test_retry_after_is_capped_by_max_retry_wait(kind, waits):
    """A ``Retry-After`` longer than ``max_retry_wait`` waits only ``max_retry_wait``."""
    busy = error(400, "idempotency_key_already_exists", **{"Retry-After": "58"})
    wire = Wire(busy, ok("session", SESSION))
    await _create(kind, wire, max_retry_wait=5)
    assert waits == [5.0]


async def test_retry_after_on_another_400_code_is_not_retried(kind, waits):
    """Only the idempotency answer's ``Retry-After`` is honoured on a 400."""
    wire = Wire(error(400, "invalid_request", **{"Retry-After": "1"}), ok("session", SESSION))
    with pytest.raises(InvalidRequestError):
        await _create(kind, wire)
    assert len(wire.requests) == 1


async def test_retry_budget_covers_every_cause_then_the_last_answer_is_raised(kind, waits):
    """``max_retries=2``: three attempts in all, mixed causes, then the last answer's error."""
    busy = error(400, "idempotency_key_already_exists", **{"Retry-After": "1"})
    wire = Wire(DROPPED, busy, error(500, "internal_error"), ok("session", SESSION))
    with pytest.raises(InternalServerError) as caught:
        await _create(kind, wire, max_retries=2)
    assert len(wire.requests) == 3
    assert caught.value.idempotency_key == wire.requests[0].headers["x-partner-idempotency-key"]


async def test_network_failures_past_the_budget_raise_transport_error_with_the_key(kind, waits):
    """When every attempt drops, ``TransportError`` carries the key to retry with later."""
    wire = Wire(DROPPED)
    with pytest.raises(TransportError) as caught:
        await _create(kind, wire, max_retries=3)
    assert len(wire.requests) == 4
    assert caught.value.idempotency_key == wire.requests[0].headers["x-partner-idempotency-key"]
    assert "ReadError" in str(caught.value)
    assert "4 attempt" in str(caught.value)


async def test_zero_retries_sends_once(kind, waits):
    """``max_retries=0`` turns retries off."""
    wire = Wire(error(500, "internal_error"), ok("session", SESSION))
    with pytest.raises(InternalServerError):
        await _create(kind, wire, max_retries=0)
    assert len(wire.requests) == 1


async def test_raw_request_without_key_retries_only_failures_before_sending(kind, waits):
    """A raw mutating call without a key is retried only when it never reached the server.

    A refused connection is retried; a dropped one or a 500 is not (the server may have run it).
    """
    for failure, sent in ((REFUSED, 2), (DROPPED, 1), (error(500, "internal_error"), 1)):
        wire = Wire(failure, ok("session", SESSION))
        client = make(kind, wire)
        try:
            result = client.request("session/create", {"metadata": "x"})
            if not isinstance(result, httpx.Response) and hasattr(result, "__await__"):
                result = await result
        except TransportError:
            pass
        finally:
            await close(client)
        assert len(wire.requests) == sent, failure


async def test_raw_request_with_key_or_read_only_is_retried(kind, waits):
    """A raw call with a key, or of a read-only method, is retried like a typed one."""
    for path, key in (("session/create", "k-1"), ("session/status", None)):
        wire = Wire(DROPPED, ok("session", SESSION))
        client = make(kind, wire)
        try:
            result = client.request(path, {"session_id": "ps_1"}, idempotency_key=key)
            if hasattr(result, "__await__"):
                result = await result
        finally:
            await close(client)
        assert result.status_code == 200
        assert len(wire.requests) == 2


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap():
    """Delay n is in [c/2, c] for c = min(max, base * 2**n)."""
    policy = RetryPolicy(backoff_base=0.5, backoff_max=4.0)
    for retry, ceiling in enumerate([0.5, 1.0, 2.0, 4.0, 4.0, 4.0]):
        for _ in range(20):
            assert ceiling / 2 <= policy.backoff(retry) <= ceiling
    assert len({policy.backoff(3) for _ in range(20)}) > 1


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("3", 3.0), ("0", 0.0), ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_header_forms(value, seconds):
    """Delta-seconds, an HTTP date (past → 0), or unreadable (ignored)."""
    assert retry_after(httpx.Headers({"Retry-After": value})) == seconds
    assert retry_after(httpx.Headers({})) is None
