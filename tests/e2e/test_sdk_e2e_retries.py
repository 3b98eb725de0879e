"""Retry safety against a real server: faults injected around a real transport.

``httpx.MockTransport`` wraps a real transport to the server and injects faults; the
database shows that nothing ran twice.

- the connection drops after the server committed and answered: the retry (same key, same
  bytes) gets the stored reply, and only one session exists;
- a 500 (injected before the server saw anything), then success: one session;
- a 400 is never retried: the server sees the request once.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import sdk_e2e_kit as kit
from kassa_client import (
    AmountDetails,
    AsyncClient,
    CardDetails,
    Client,
    Customer,
    IdempotencyConflictError,
    InvalidRequestError,
)
from testkit import create_project, raw_driver

sdk_server = kit.sdk_server

USD = AmountDetails(amount=2500, currency="eur")
VISA = CardDetails.from_bank_card("4242424242424242", "12", "30", "123")
BUYER = Customer(reference="retry-buyer")
FAULT_500 = httpx.Response(
    500, json={"status": "error", "error": {"code": "internal_error", "description": "boom"}}
)


class Faults:
    """Forwards every request to the real server through a real transport, with faults on cue.

    ``script`` holds one entry per attempt: ``"drop"`` (forward, then lose the answer),
    ``"500"`` (answer 500 without forwarding) or ``None`` (just forward).
    """

    def __init__(self, *script: str | None) -> None:
        self.script = list(script)
        self.sent: list[httpx.Request] = []
        self.reached: list[httpx.Response] = []  # answers the real server gave
        self.real = httpx.HTTPTransport()
        self.areal = httpx.AsyncHTTPTransport()

    async def close(self) -> None:
        """Close both real transports' pools."""
        self.real.close()
        await self.areal.aclose()

    def _fault(self, request: httpx.Request) -> str | None:
        self.sent.append(request)
        return self.script.pop(0) if self.script else None

    def _after(self, fault: str | None, response: httpx.Response) -> httpx.Response:
        answer = httpx.Response(
            response.status_code, headers=response.headers, content=response.content
        )
        self.reached.append(answer)
        if fault == "drop":
            msg = "connection dropped after the server answered"
            raise httpx.ReadError(msg)
        return answer

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The sync handler."""
        fault = self._fault(request)
        if fault == "500":
            return httpx.Response(500, content=FAULT_500.content, headers=FAULT_500.headers)
        response = self.real.handle_request(request)
        response.read()
        return self._after(fault, response)

    async def ahandle(self, request: httpx.Request) -> httpx.Response:
        """The async handler."""
        fault = self._fault(request)
        if fault == "500":
            return httpx.Response(500, content=FAULT_500.content, headers=FAULT_500.headers)
        response = await self.areal.handle_async_request(request)
        await response.aread()
        return self._after(fault, response)


async def _call(kind: str, server: Any, project: Any, faults: Faults, name: str, **kw: Any) -> Any:
    if kind == "sync":
        with Client(
            server.base_url,
            project.id,
            project.key,
            backoff_base=0.05,
            transport=httpx.MockTransport(faults.handle),
        ) as client:
            return getattr(client, name)(**kw)
    async with AsyncClient(
        server.base_url,
        project.id,
        project.key,
        backoff_base=0.05,
        transport=httpx.MockTransport(faults.ahandle),
    ) as client:
        return await getattr(client, name)(**kw)


async def sessions_of(database_url: str, project_id: str) -> list[str]:
    """Ids of the project's sessions, straight from the database."""
    driver = await raw_driver(database_url)
    try:
        rows = await driver.fetch("SELECT id FROM sessions WHERE project_id = ?", [project_id])
    finally:
        await driver.close()
    return [str(r[0]) for r in rows]


def _one_request_resent(faults: Faults) -> None:
    first = faults.sent[0]
    for later in faults.sent[1:]:
        assert later.content == first.content
        assert later.headers["x-partner-sign"] == first.headers["x-partner-sign"]
        assert (
            later.headers["x-partner-idempotency-key"] == first.headers["x-partner-idempotency-key"]
        )


@pytest.fixture
async def make_faults():
    """Factory of ``Faults``; their connection pools are closed after the test."""
    made: list[Faults] = []

    def factory(*script: str | None) -> Faults:
        made.append(Faults(*script))
        return made[-1]

    yield factory
    for faults in made:
        await faults.close()


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_dropped_answer_after_commit_is_replayed_not_rerun(kind, sdk_server, make_faults):
    """The first answer is lost after the commit; the retry gets the stored one; one session."""
    project = await create_project(sdk_server.database_url)
    faults = make_faults("drop")
    session = await _call(
        kind, sdk_server, project, faults, "init_payment",
        payment_details=VISA, amount_details=USD, customer=BUYER,
    )  # fmt: skip
    assert len(faults.sent) == 2
    _one_request_resent(faults)
    assert [r.status_code for r in faults.reached] == [200, 200]
    assert faults.reached[1].content == faults.reached[0].content  # the stored reply, byte for byte
    assert await sessions_of(sdk_server.database_url, project.id) == [session.id]
    assert len(session.acquiring_payments) == 1


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_500_then_success_makes_one_session(kind, sdk_server, make_faults):
    """A 500 is retried with the same key and bytes; the server runs the request once."""
    project = await create_project(sdk_server.database_url)
    faults = make_faults("500")
    session = await _call(kind, sdk_server, project, faults, "create_session", metadata="once")
    assert len(faults.sent) == 2
    _one_request_resent(faults)
    assert len(faults.reached) == 1
    assert await sessions_of(sdk_server.database_url, project.id) == [session.id]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_400_is_never_retried(kind, sdk_server, make_faults):
    """A Luhn-invalid card (400 invalid_request), a key reused for another body (400): once."""
    project = await create_project(sdk_server.database_url)
    faults = make_faults()
    bad = CardDetails.from_bank_card("4242424242424241", "12", "30", "123")
    with pytest.raises(InvalidRequestError):
        await _call(
            kind, sdk_server, project, faults, "init_payment",
            payment_details=bad, amount_details=USD, customer=BUYER,
        )  # fmt: skip
    assert len(faults.sent) == 1
    assert [r.status_code for r in faults.reached] == [400]

    reuse = make_faults()
    await _call(
        kind, sdk_server, project, reuse, "create_session", metadata="a", idempotency_key="k"
    )
    with pytest.raises(IdempotencyConflictError):
        await _call(
            kind, sdk_server, project, reuse, "create_session", metadata="b", idempotency_key="k"
        )
    assert len(reuse.sent) == 2  # one per call: the conflict was not retried
    assert "retry-after" not in reuse.reached[1].headers
    assert len(await sessions_of(sdk_server.database_url, project.id)) == 1
