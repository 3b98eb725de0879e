"""A bounded HTTP load generator (aiohttp) for pre-built requests against 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True, slots=True)
class Prepared:
    """One request, ready to send: path, body bytes and headers (already signed)."""

    path: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What a run measured."""

    requests: int
    errors: int
    seconds: float
    latencies_ms: tuple[float, ...]

    @property
    def rate(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


async def run_load(base_url: str, prepared: Sequence[Prepared], concurrency: int) -> LoadResult:
    """Send every prepared request once with ``concurrency`` connections; count non-2xx."""
    queue: asyncio.Queue[Prepared] = asyncio.Queue()
    for item in prepared:
        queue.put_nowait(item)
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base_url, connector=connector) as http:

        async def worker() -> None:
            nonlocal errors
            while True:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                async with http.post(item.path, data=item.body, headers=item.headers) as resp:
                    await resp.read()
                    if resp.status >= 300:  # noqa: PLR2004
                        errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return LoadResult(len(prepared), errors, elapsed, tuple(latencies))
