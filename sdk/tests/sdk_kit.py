"""Helpers of the SDK's unit tests: the Bank 131 test keys, a scripted ``httpx.MockTransport``."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import httpx

from kassa_client import AsyncClient, Client

VECTORS = Path(__file__).parent / "vectors"
PRIVATE = VECTORS / "bank131_private.pem"
PUBLIC = VECTORS / "bank131_public.pem"
BASE = "https://kassa.test"
PROJECT = "pj_test"

SESSION = {
    "id": "ps_1",
    "status": "created",
    "created_at": "2024-05-27T02:03:00.000000Z",
    "updated_at": "2024-05-27T02:03:00.000000Z",
}


def ok(name: str, value: Any) -> httpx.Response:
    """A 200 ``{"status": "ok", name: value}`` answer."""
    return httpx.Response(200, json={"status": "ok", name: value})


def error(status: int, code: str, description: str = "why", **headers: str) -> httpx.Response:
    """An error envelope answer."""
    body = {"status": "error", "error": {"code": code, "description": description}}
    return httpx.Response(status, json=body, headers=headers)


class Wire:
    """A MockTransport handler: records each request, answers from a script (last one repeats).

    A script item is an ``httpx.Response``, an exception to raise, or a callable taking the
    request.
    """

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers) or [ok("session", SESSION)]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """Record ``request`` and give the next answer."""
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return answer(request)
        # a fresh copy: a Response's stream belongs to the one client that read it
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    @property
    def last(self) -> httpx.Request:
        """The last request sent."""
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        """A request's body parsed."""
        return json.loads(self.requests[index].content)


def make(kind: str, wire: Wire, *, version: str = "v1", **options: Any) -> Client | AsyncClient:
    """A ``Client`` (``kind="sync"``) or ``AsyncClient`` over ``wire``, without backoff waits."""
    options.setdefault("backoff_base", 0.0)
    cls = Client if kind == "sync" else AsyncClient
    return cls(
        BASE,
        PROJECT,
        PRIVATE,
        api_version=version,
        transport=httpx.MockTransport(wire),
        **options,
    )


def sync(wire: Wire, **options: Any) -> Client:
    """A ``Client`` over ``wire`` without backoff waits."""
    options.setdefault("backoff_base", 0.0)
    return Client(BASE, PROJECT, PRIVATE, transport=httpx.MockTransport(wire), **options)


async def invoke(client: Client | AsyncClient, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call method ``name`` on either client and return its result."""
    value = getattr(client, name)(*args, **kwargs)
    if inspect.isawaitable(value):
        value = await value
    return value


async def close(client: Client | AsyncClient) -> None:
    """Close either client."""
    if isinstance(client, AsyncClient):
        await client.aclose()
    else:
        client.close()
