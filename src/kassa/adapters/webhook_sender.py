"""POSTs signed webhooks with aiohttp: one pooled ``ClientSession`` per worker process.

Every request: ``Content-Type: application/json`` and ``X-PARTNER-SIGN`` over the exact bytes
sent, a total timeout (10 s by default), no redirects (a 3xx is just a non-2xx answer), and at
most ``EXCERPT_BYTES`` of the answer kept; an answer longer than ``_DRAIN_BYTES`` is not read
to its end (the connection is dropped instead of reused).

The SSRF guard has two halves. At send time the URL is checked again statically
(``domain/webhook_url.py``: http(s), no credentials, no private literal address), and the
connector's resolver refuses a host that resolves to any loopback, private, link-local or
otherwise non-global address. The connection is made to the very addresses that were checked,
so a DNS answer that changes between check and connect (rebinding) cannot slip through.
With ``allow_private`` (the sandbox setting) both halves let private addresses pass.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import TYPE_CHECKING

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import ThreadedResolver

from kassa import __version__
from kassa.domain.webhook_url import WebhookUrlError, check_webhook_url, is_public_address
from kassa.service.ports.delivery import EXCERPT_BYTES, SendResult

if TYPE_CHECKING:
    from aiohttp.abc import ResolveResult

_DRAIN_BYTES = 64 * 1024  # read (and drop) at most this much of an answer to reuse the socket


class AddressRefused(OSError):
    """The webhook host resolved to an address the SSRF guard does not allow."""


class GuardedResolver(AbstractResolver):
    """A resolver that refuses non-global addresses unless private ones are allowed."""

    def __init__(self, *, allow_private: bool, inner: AbstractResolver | None = None) -> None:
        """Wrap ``inner`` (default: the threaded getaddrinfo resolver)."""
        self._inner = inner or ThreadedResolver()
        self.allow_private = allow_private

    async def resolve(
        self,
        host: str,
        port: int = 0,
        family: socket.AddressFamily = socket.AF_INET,
    ) -> list[ResolveResult]:
        """Resolve ``host``; raise ``AddressRefused`` if any address is not allowed."""
        found = await self._inner.resolve(host, port, family)
        if not self.allow_private:
            for entry in found:
                if not is_public_address(entry["host"]):
                    msg = f"{host} resolves to {entry['host']}, a non-public address"
                    raise AddressRefused(msg)
        return found

    async def close(self) -> None:
        """Close the wrapped resolver."""
        await self._inner.close()


class AiohttpWebhookSender:
    """``service.delivery_ports.WebhookSender`` over one aiohttp ``ClientSession``."""

    def __init__(
        self,
        *,
        timeout: float,
        allow_private: bool,
        max_connections: int = 64,
        resolver: AbstractResolver | None = None,
    ) -> None:
        """Create the pooled session inside a running loop; ``resolver`` does name lookups."""
        self.timeout = timeout
        self.allow_private = allow_private
        connector = aiohttp.TCPConnector(
            limit=max_connections,
            resolver=GuardedResolver(allow_private=allow_private, inner=resolver),
            ttl_dns_cache=10,
        )
        self._http = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=timeout),
            headers={"User-Agent": f"kassa-webhooks/{__version__}"},
            trust_env=False,
            auto_decompress=False,
        )

    async def send(self, url: str, body: bytes, signature: str) -> SendResult:
        """POST once; every failure becomes a ``SendResult`` with ``error`` set."""
        started = time.perf_counter()

        def elapsed() -> float:
            return (time.perf_counter() - started) * 1000

        try:
            check_webhook_url(url, allow_private=self.allow_private)
        except WebhookUrlError as exc:
            return SendResult(None, elapsed(), error=f"refused: {exc}")
        headers = {"Content-Type": "application/json", "X-PARTNER-SIGN": signature}
        try:
            async with self._http.post(
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
            ) as response:
                excerpt = await _excerpt(response)
                return SendResult(response.status, elapsed(), excerpt=excerpt)
        except TimeoutError:
            return SendResult(None, elapsed(), error=f"timeout after {self.timeout:g} s")
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, AddressRefused):
                return SendResult(None, elapsed(), error=f"refused: {exc.os_error}")
            return SendResult(None, elapsed(), error=f"connection failed: {exc.os_error}")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return SendResult(None, elapsed(), error=f"{type(exc).__name__}: {exc}"[:500])

    async def close(self) -> None:
        """Close the pool (and give aiohttp a tick to close its sockets)."""
        await self._http.close()
        await asyncio.sleep(0)


async def _excerpt(response: aiohttp.ClientResponse) -> str | None:
    """The first ``EXCERPT_BYTES`` of the answer; drain a little more, else drop the socket."""
    kept = bytearray()
    while len(kept) < EXCERPT_BYTES:
        chunk = await response.content.read(EXCERPT_BYTES - len(kept))
        if not chunk:
            break
        kept += chunk
    drained = 0
    while not response.content.at_eof() and drained <= _DRAIN_BYTES:
        chunk = await response.content.read(_DRAIN_BYTES)
        if not chunk:
            break
        drained += len(chunk)
    if not response.content.at_eof():
        response.close()
    return kept.decode("utf-8", errors="replace") if kept else None
