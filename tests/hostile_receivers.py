"""Webhook receivers that misbehave, on raw asyncio sockets (``tests/reliability/test_receivers``).

One :class:`RawReceiver` per behaviour: ``ok`` (200 at once), ``slow`` (200 after
``delay`` seconds), ``hang`` (reads the request, never answers, never closes), ``redirect``
(302 to ``location``), ``huge`` (200 with a 10 MiB body, written in chunks while the peer
reads; ``written`` counts what got out before the peer hung up).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from testkit import free_port

HUGE = 10 * 1024 * 1024
_CHUNK = 64 * 1024


@dataclass
class RawReceiver:
    """An HTTP/1.1 receiver on 127.0.0.1 with one behaviour."""

    behaviour: str
    delay: float = 0.0
    location: str = ""
    port: int = field(default_factory=free_port)
    arrivals: list[float] = field(default_factory=list)  # monotonic time of each request
    answered: list[float] = field(default_factory=list)
    written: int = 0
    _server: asyncio.Server | None = None
    _held: list[asyncio.StreamWriter] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The webhook URL."""
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> RawReceiver:
        """Listen."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        """Close every held connection and stop listening."""
        for writer in self._held:
            writer.close()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                self.arrivals.append(time.monotonic())
                if not await self._answer(writer):
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            writer.close()

    async def _answer(self, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection is done."""
        if self.behaviour == "hang":
            self._held.append(writer)
            await asyncio.sleep(3600)
            return False
        if self.behaviour == "slow":
            await asyncio.sleep(self.delay)
        if self.behaviour == "redirect":
            writer.write(
                f"HTTP/1.1 302 Found\r\nLocation: {self.location}\r\n"
                "Content-Length: 0\r\n\r\n".encode()
            )
        elif self.behaviour == "huge":
            writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {HUGE}\r\n\r\n".encode())
            try:
                while self.written < HUGE:
                    writer.write(b"x" * _CHUNK)
                    await asyncio.wait_for(writer.drain(), 5)
                    self.written += _CHUNK
            except (ConnectionError, TimeoutError):
                writer.close()
                self.answered.append(time.monotonic())
                return False
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        self.answered.append(time.monotonic())
        return True
