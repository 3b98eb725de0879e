"""The PostgreSQL driver under terminated backends and held locks, one fault at a time.

The load test (``test_db_faults.py``) shows the whole of kassa stays right; these show the
driver's own rules (``adapters/db/postgres.py``): a read on a terminated connection runs again
on a fresh one, a write refused before the server saw it runs again once, a write the server
had when its backend died is not repeated (its outcome is unknown: the request fails, the
idempotency key makes the client's retry safe), and a lock held past
``KASSA_DB_STATEMENT_TIMEOUT_MS`` fails the statement in that time instead of hanging.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import asyncpg
import pytest

from kassa.adapters.db.driver import Stmt
from kassa.adapters.db.postgres import PostgresDriver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.postgres


@pytest.fixture
async def admin(pg_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the test's own (never terminated), with a scratch table."""
    conn = await asyncpg.connect(pg_url)
    await conn.execute("CREATE TABLE scratch (n int)")
    yield conn
    await conn.close()


async def _backend(driver: PostgresDriver) -> int:
    return int((await driver.fetch("SELECT pg_backend_pid()"))[0][0])


async def test_a_read_on_a_terminated_connection_runs_again(
    pg_url: str, admin: asyncpg.Connection
) -> None:
    """Terminate the pool's one backend, then read at once: answered, from a new backend."""
    driver = await PostgresDriver.connect(pg_url, min_size=1, max_size=1)
    try:
        for _ in range(5):
            before = await _backend(driver)
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", before)
            assert await driver.fetch("SELECT 7") == [(7,)]
            assert await _backend(driver) != before  # the dead one left the pool
    finally:
        await driver.close()


async def test_a_write_refused_by_a_dead_connection_runs_once(
    pg_url: str, admin: asyncpg.Connection
) -> None:
    """Terminate, write at once: the batch is applied, exactly once, on a fresh connection."""
    driver = await PostgresDriver.connect(pg_url, min_size=1, max_size=1)
    try:
        for n in range(5):
            await admin.fetchval("SELECT pg_terminate_backend($1)", await _backend(driver))
            await driver.write(
                [Stmt("INSERT INTO scratch VALUES (?)", (n,)), Stmt("SELECT 1", returning=True)]
            )
        rows = await admin.fetch("SELECT n FROM scratch ORDER BY n")
        assert [r["n"] for r in rows] == [0, 1, 2, 3, 4]
    finally:
        await driver.close()


async def test_a_write_cut_while_the_server_had_it_is_not_repeated(
    pg_url: str, admin: asyncpg.Connection
) -> None:
    """Its backend dies while the write waits on a lock: the call fails, nothing is written."""
    driver = await PostgresDriver.connect(pg_url, min_size=1, max_size=1)
    lock = await asyncpg.connect(pg_url)
    try:
        pid = await _backend(driver)
        tx = lock.transaction()
        await tx.start()
        await lock.execute("LOCK TABLE scratch IN ACCESS EXCLUSIVE MODE")
        write = asyncio.create_task(
            driver.write(
                [Stmt("INSERT INTO scratch VALUES (1)"), Stmt("INSERT INTO scratch VALUES (2)")]
            )
        )
        await asyncio.sleep(0.3)
        assert not write.done()
        await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        with pytest.raises(asyncpg.PostgresConnectionError):
            await write
        await tx.rollback()
        assert await admin.fetchval("SELECT count(*) FROM scratch") == 0
        assert await driver.fetch("SELECT 1") == [(1,)]  # and the pool is whole again
    finally:
        await lock.close()
        await driver.close()


async def test_a_lock_held_past_the_statement_timeout_fails_the_statement(
    pg_url: str, admin: asyncpg.Connection
) -> None:
    """``statement_timeout_ms`` bounds the wait: the write fails in about that time."""
    driver = await PostgresDriver.connect(pg_url, statement_timeout_ms=300)
    lock = await asyncpg.connect(pg_url)
    try:
        async with lock.transaction():
            await lock.execute("LOCK TABLE scratch IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
            with pytest.raises((asyncpg.LockNotAvailableError, asyncpg.QueryCanceledError)):
                await driver.write([Stmt("INSERT INTO scratch VALUES (1)")])
            assert time.monotonic() - started < 5
        await driver.write([Stmt("INSERT INTO scratch VALUES (2)")])
        assert [r["n"] for r in await admin.fetch("SELECT n FROM scratch")] == [2]
    finally:
        await lock.close()
        await driver.close()
