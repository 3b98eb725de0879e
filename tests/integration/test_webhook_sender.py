"""The aiohttp sender against a real HTTP server on 127.0.0.1: headers, caps, SSRF guard."""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver

from kassa.adapters.webhook_sender import AiohttpWebhookSender
from testkit import free_port

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

BODY = '{"type":"payment_finished","session":{"id":"ps_1","metadata":"Привет \\/ 1"}}'.encode()


class Target:
    """A server with one route per behaviour; remembers what reached it."""

    def __init__(self) -> None:
        """Nothing received yet."""
        self.port = free_port()
        self.hits: list[tuple[str, bytes, dict[str, str]]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Record, then behave as the path says."""
        self.hits.append((request.path, await request.read(), dict(request.headers)))
        if request.path == "/redirect":
            raise web.HTTPFound("/landing")
        if request.path == "/big":
            return web.Response(text="x" * 3000 + "é" * 100_000)
        if request.path == "/slow":
            await asyncio.sleep(2)
        return web.Response(text="thanks")

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        """A URL on this server."""
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    """A running target server."""
    server = Target()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", server.port).start()
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture
async def sandbox_sender() -> AsyncIterator[AiohttpWebhookSender]:
    """A sender with private addresses allowed and a 0.5 s timeout."""
    sender = AiohttpWebhookSender(timeout=0.5, allow_private=True)
    try:
        yield sender
    finally:
        await sender.close()


async def test_sender_posts_the_exact_bytes_with_json_type_and_signature(
    target: Target,
    sandbox_sender: AiohttpWebhookSender,
) -> None:
    """The body arrives byte for byte, with Content-Type and X-PARTNER-SIGN."""
    result = await sandbox_sender.send(target.url("/hook"), BODY, "c2lnbmF0dXJl")
    assert result.delivered
    assert (result.http_status, result.excerpt, result.error) == (200, "thanks", None)
    assert result.latency_ms > 0
    [(path, body, headers)] = target.hits
    assert (path, body) == ("/hook", BODY)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-PARTNER-SIGN"] == "c2lnbmF0dXJl"


async def test_redirects_are_not_followed(
    target: Target,
    sandbox_sender: AiohttpWebhookSender,
) -> None:
    """A 302 is a non-2xx answer; the redirect target is never contacted."""
    result = await sandbox_sender.send(target.url("/redirect"), BODY, "sig")
    assert result.http_status == 302
    assert not result.delivered
    assert [hit[0] for hit in target.hits] == ["/redirect"]


async def test_only_the_first_kibibyte_of_an_answer_is_kept(
    target: Target,
    sandbox_sender: AiohttpWebhookSender,
) -> None:
    """A 200 KB answer leaves a 1 KiB excerpt and still counts as delivered."""
    result = await sandbox_sender.send(target.url("/big"), BODY, "sig")
    assert result.delivered
    assert result.excerpt == "x" * 1024


async def test_a_slow_receiver_times_out(
    target: Target,
    sandbox_sender: AiohttpWebhookSender,
) -> None:
    """No answer within the timeout is an error, not a status."""
    result = await sandbox_sender.send(target.url("/slow"), BODY, "sig")
    assert result.http_status is None
    assert result.error == "timeout after 0.5 s"


async def test_a_refused_connection_is_an_error(sandbox_sender: AiohttpWebhookSender) -> None:
    """Nothing listening: an error naming the connection failure."""
    result = await sandbox_sender.send(f"http://127.0.0.1:{free_port()}/hook", BODY, "sig")
    assert result.http_status is None
    assert result.error is not None
    assert result.error.startswith("connection failed")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hook",
        "http://[::1]:{port}/hook",
        "http://localhost:{port}/hook",
        "http://0x7f.1:{port}/hook",
        "http://2130706433:{port}/hook",
        "ftp://127.0.0.1:{port}/hook",
        "http://user:pw@127.0.0.1:{port}/hook",
    ],
)
async def test_outside_sandbox_loopback_targets_are_refused_before_connecting(
    target: Target,
    url: str,
) -> None:
    """Loopback by literal, by name, by odd numeric forms, bad schemes: nothing is sent."""
    sender = AiohttpWebhookSender(timeout=0.5, allow_private=False)
    try:
        result = await sender.send(url.format(port=target.port), BODY, "sig")
    finally:
        await sender.close()
    assert not result.delivered
    assert result.error is not None
    assert result.error.startswith(("refused: ", "InvalidUrlClientError: "))
    assert target.hits == []


class FixedResolver(AbstractResolver):
    """Answers every name with one address (a DNS server we control)."""

    def __init__(self, address: str) -> None:
        """Resolve everything to ``address``."""
        self.address = address

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[Any]:  # noqa: ARG002 - the resolver interface
        """One IPv4 answer."""
        return [
            {
                "hostname": host,
                "host": self.address,
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            },
        ]

    async def close(self) -> None:
        """Nothing to close."""


async def test_a_public_looking_name_resolving_to_loopback_is_refused(target: Target) -> None:
    """The dynamic half: a name passing the static check but resolving to 127.0.0.1."""
    sender = AiohttpWebhookSender(
        timeout=0.5,
        allow_private=False,
        resolver=FixedResolver("127.0.0.1"),
    )
    try:
        result = await sender.send(target.url("/hook", host="hooks.example.com"), BODY, "sig")
    finally:
        await sender.close()
    assert result.error == (
        "refused: hooks.example.com resolves to 127.0.0.1, a non-public address"
    )
    assert target.hits == []


async def test_the_connection_goes_to_the_address_that_was_checked(target: Target) -> None:
    """In sandbox the same name is delivered, to the resolved (checked) address."""
    sender = AiohttpWebhookSender(
        timeout=0.5,
        allow_private=True,
        resolver=FixedResolver("127.0.0.1"),
    )
    try:
        result = await sender.send(target.url("/hook", host="hooks.example.com"), BODY, "sig")
    finally:
        await sender.close()
    assert result.delivered
    assert target.hits[0][2]["Host"] == f"hooks.example.com:{target.port}"


async def test_sandbox_allows_loopback_by_name(
    target: Target,
    sandbox_sender: AiohttpWebhookSender,
) -> None:
    """With the sandbox setting on, localhost is a fine target."""
    result = await sandbox_sender.send(target.url("/hook", host="localhost"), BODY, "sig")
    assert result.delivered
