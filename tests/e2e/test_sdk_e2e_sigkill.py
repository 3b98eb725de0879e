"""A server SIGKILLed while an SDK call is in flight: restarted, the call completes, once.

The transport kills the server as soon as the server holds the call's idempotency key (the
request bytes arrived and are being handled), then restarts it on the same database and port
while the client retries. init/payment defers its claim to the commit of the payment's intent
(``service/idempotency.py``), so the key appears, bound to the pending processor call, when
the intent commits. A retry that finds the dead request's key still held gets ``400
idempotency_key_already_exists`` with ``Retry-After``, waits, and then replays the reply the
restarted server's sweeper stored once ``KASSA_RECOVERY_AFTER_SECONDS`` (shrunk to 2 s; 6 s on
PostgreSQL, longer than the restart) had passed and it recorded the call.

On PostgreSQL the test holds a lock on the sandbox processor's journal (``processor_calls``)
until the kill, so the server is always caught after its intent committed and before the
processor answered: the ``Retry-After`` path is taken every time. On SQLite the kill lands
wherever the key first shows (the lease is shrunk to 3 s, should a claim ever be seen
running): the call completes either way, once.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx

from kassa_client import AmountDetails, CardDetails, Client, Customer
from testkit import KassaServer, create_project, raw_driver

if TYPE_CHECKING:
    from pathlib import Path

KEY = "order-sigkill-1"
USD = AmountDetails(amount=777, currency="usd")


@dataclass
class Killer:
    """Forwards to the real server; kills it during the first request, then restarts it."""

    server: KassaServer
    loop: asyncio.AbstractEventLoop
    project_id: str
    release_lock: Any = None  # coroutine function: PostgreSQL's lock on sessions
    real: httpx.HTTPTransport = field(default_factory=httpx.HTTPTransport)
    attempts: list[str] = field(default_factory=list)  # what each attempt met
    state_at_kill: str | None = None
    restarter: threading.Thread | None = None

    def _on_loop(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    async def _key_state(self) -> str | None:
        driver = await raw_driver(self.server.database_url)
        try:
            rows = await driver.fetch(
                "SELECT state FROM idempotency_keys WHERE project_id = ? AND key = ?",
                [self.project_id, KEY],
            )
        finally:
            await driver.close()
        return str(rows[0][0]) if rows else None

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The MockTransport handler."""
        if self.restarter is None:
            return self._first(request)
        try:
            response = self.real.handle_request(request)
        except httpx.TransportError as exc:
            self.attempts.append(type(exc).__name__)
            raise
        response.read()
        waited = response.headers.get("retry-after")
        self.attempts.append(
            f"{response.status_code}" + (f" retry-after {waited}" if waited else "")
        )
        return httpx.Response(
            response.status_code, headers=response.headers, content=response.content
        )

    def _first(self, request: httpx.Request) -> httpx.Response:
        outcome: list[Any] = []
        forward = threading.Thread(target=lambda: outcome.append(self._forward(request)))
        forward.start()
        for _ in range(600):  # until the server holds the key (≤ 30 s)
            self.state_at_kill = self._on_loop(self._key_state())
            if self.state_at_kill is not None:
                break
            threading.Event().wait(0.05)
        assert self.server.proc is not None
        self.server.proc.kill()  # SIGKILL: no cleanup, no answer
        self.server.proc.wait(10)
        if self.release_lock is not None:
            self._on_loop(self.release_lock())
        forward.join(30)
        self.restarter = threading.Thread(target=self.server.start)
        self.restarter.start()
        self.attempts.append(f"killed with the key {self.state_at_kill}")
        msg = "server killed while handling the request"
        raise httpx.RemoteProtocolError(msg)

    def _forward(self, request: httpx.Request) -> Any:
        try:
            return self.real.handle_request(request).read()
        except httpx.TransportError as exc:
            return exc


async def _count(database_url: str, project_id: str) -> tuple[int, list[str]]:
    driver = await raw_driver(database_url)
    try:
        rows = await driver.fetch("SELECT id FROM sessions WHERE project_id = ?", [project_id])
    finally:
        await driver.close()
    return len(rows), [str(r[0]) for r in rows]


async def _lock_processor_journal(database_url: str) -> tuple[Any, Any]:
    """Hold ``LOCK TABLE processor_calls IN SHARE MODE`` (the sandbox's inserts wait)."""
    conn = await asyncpg.connect(database_url)
    tx = conn.transaction()
    await tx.start()
    await conn.execute("LOCK TABLE processor_calls IN SHARE MODE")

    async def release() -> None:
        await tx.rollback()
        await conn.close()

    return conn, release


async def test_sigkill_mid_request_then_restart_completes_with_one_payment(
    database_url: str, tmp_path: Path
) -> None:
    """The call returns one session with one payment; the database holds exactly that."""
    project = await create_project(database_url)
    postgres = database_url.startswith("postgresql")
    server = KassaServer(
        database_url,
        tmp_path,
        KASSA_IDEMPOTENCY_LEASE_SECONDS="10" if postgres else "3",
        KASSA_WORKER_POLL_SECONDS="0.05",
        KASSA_RECOVERY_AFTER_SECONDS="6" if postgres else "2",  # PostgreSQL: outlasts the restart
    ).start()
    conn = None
    killer = Killer(server, asyncio.get_running_loop(), project.id)
    try:
        if postgres:
            conn, killer.release_lock = await _lock_processor_journal(database_url)
        client = Client(
            server.base_url,
            project.id,
            project.key,
            max_retries=15,
            backoff_base=0.2,
            transport=httpx.MockTransport(killer.handle),
        )
        with client:
            session = await asyncio.to_thread(
                client.init_payment,
                payment_details=CardDetails.from_bank_card("4242424242424242", "12", "30", "123"),
                amount_details=USD,
                customer=Customer(reference="k"),
                idempotency_key=KEY,
            )
        assert killer.restarter is not None
        killer.restarter.join(60)
        count, ids = await _count(database_url, project.id)
        assert (count, ids) == (1, [session.id]), killer.attempts
        assert len(session.acquiring_payments) == 1
        assert session.acquiring_payments[0].amount_details == USD
        assert killer.attempts[0].startswith("killed"), killer.attempts
        assert killer.attempts[-1] == "200", killer.attempts
        if postgres:
            assert killer.state_at_kill == "bound", killer.attempts
            assert any(a.startswith("400 retry-after") for a in killer.attempts), killer.attempts
    finally:
        if conn is not None and not conn.is_closed():
            await conn.close()
        killer.real.close()
        server.stop()
