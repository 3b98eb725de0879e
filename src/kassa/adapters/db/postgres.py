"""PostgreSQL driver: asyncpg pool, raw SQL, one transaction per batch, 40001/40P01 retried.

A pooled connection whose backend was terminated (``pg_terminate_backend``, a PostgreSQL
restart, a proxy dropping it) fails the next statement on it; asyncpg then discards it. That
statement is run again on another connection when doing so cannot apply anything twice: a read
always, a write batch only when the client refused before the server saw it or its COMMIT
(``InterfaceError``, ``InternalClientError``). A write cut while the server had it is not
retried here (its outcome is unknown); the request fails with a 500 and its idempotency key
makes the client's retry safe.

Behind pgbouncer in transaction mode (``?pgbouncer=1`` in the URL, see ``pool_options``) the
pool keeps no named prepared statements: each server connection may serve another client
between two transactions, so a statement prepared on it could be missing or someone else's.
kassa holds no other session state: no LISTEN, no session ``SET`` (only ``SET LOCAL`` inside a
transaction), no advisory locks, no cursors across transactions. pgbouncer refuses startup
parameters it does not know, so there the statement and lock timeouts are not sent: set them on
the role or database (``ALTER ROLE kassa SET statement_timeout = '30s'``, ``docs/deploy.md``).
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from kassa.adapters.db import pg_batch
from kassa.adapters.db.driver import Result, Row, Stmt

if TYPE_CHECKING:
    from collections.abc import Sequence

_RETRYABLE = {"40001", "40P01"}  # serialization failure, deadlock
_MAX_TRIES = 5
# Raised by asyncpg before anything reached the server (or before the COMMIT was sent).
_NOT_SENT: tuple[type[Exception], ...] = (
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
)
# The connection is gone: nothing a read did can matter, so a read runs again.
_BROKEN: tuple[type[Exception], ...] = (
    *_NOT_SENT,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
)
_PLACEHOLDER = re.compile(r"\?")
PGBOUNCER_PARAM = "pgbouncer"  # kassa's own URL parameter; never sent to the server
_ON = {"1", "true", "yes", "on"}
_OFF = {"0", "false", "no", "off"}


def pool_options(url: str) -> tuple[str, dict[str, Any]]:
    """The URL for asyncpg (without ``pgbouncer=``) and the pool options it asks for.

    ``postgresql://…/db?pgbouncer=1`` says a pgbouncer in transaction (or statement) mode is in
    between: asyncpg then caches no prepared statements (``statement_cache_size=0``), so each
    query is parsed as an unnamed statement in the same round trip that runs it. The flag is
    in the URL, not a setting of its own, so every program that opens the URL (``kassa serve``,
    ``kassa worker``, the CLI, the benchmark) behaves alike.
    """
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    flags = [value.strip().lower() for name, value in params if name == PGBOUNCER_PARAM]
    if not flags:
        return url, {}
    if flags[-1] not in _ON | _OFF:
        msg = f"KASSA_DATABASE_URL: pgbouncer={flags[-1]!r} must be 1/true or 0/false"
        raise ValueError(msg)
    rest = [(name, value) for name, value in params if name != PGBOUNCER_PARAM]
    clean = urlunsplit(parts._replace(query=urlencode(rest)))
    return clean, ({"statement_cache_size": 0} if flags[-1] in _ON else {})


@functools.lru_cache(maxsize=1024)
def to_dollar(sql: str) -> str:
    """``?`` placeholders → ``$1, $2, …`` (kassa's SQL never holds a literal ``?``)."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _m: f"${next(counter)}", sql)


class _UnsentError(Exception):
    """The connection died before the batch's BEGIN: nothing was applied, it may run again."""


_RERUN: tuple[type[Exception], ...] = (_UnsentError, *_NOT_SENT)  # a write that may run again


def _count(status: str) -> int:
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


async def _cheap_reset(conn: asyncpg.Connection) -> None:
    """Reset a released connection: only what kassa could leave behind, an open transaction.

    asyncpg's default reset sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET
    ALL`` on every release — a round trip per request. kassa takes no advisory locks, opens no
    cursors, never LISTENs and never SETs session state, and every transaction is closed by its
    ``async with``; so a release costs nothing unless a transaction was left open (then it is
    rolled back, as the default would).
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


class PostgresDriver:
    """A pool of asyncpg connections to one database."""

    dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool) -> None:
        """Use an open pool (see ``connect``)."""
        self.pool = pool

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        statement_timeout_ms: int | None = None,
    ) -> PostgresDriver:
        """Open a pool to ``url`` (released connections get the cheap reset below).

        ``statement_timeout_ms`` becomes the connections' ``statement_timeout`` and
        ``lock_timeout`` (startup parameters, so no reset can lose them) — except behind
        pgbouncer, which refuses startup parameters it does not know.
        """
        dsn, options = pool_options(url)
        server_settings = {}
        if statement_timeout_ms is not None and not options:
            server_settings = {
                "statement_timeout": str(statement_timeout_ms),
                "lock_timeout": str(statement_timeout_ms),
            }
        pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            reset=_cheap_reset,
            server_settings=server_settings,
            **options,
        )
        return cls(pool)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a read query (again on a fresh connection if its connection was dead)."""
        for attempt in range(_MAX_TRIES):
            try:
                records = await self.pool.fetch(to_dollar(sql), *params)
            except _BROKEN:
                if attempt == _MAX_TRIES - 1:
                    raise
                continue
            return [tuple(r) for r in records]
        raise AssertionError  # pragma: no cover - the loop returns or raises

    async def write(self, stmts: Sequence[Stmt]) -> list[Result]:
        """Run the batch in one transaction, retrying serialization failures.

        Also retried: a batch refused by a dead connection before the server saw it.
        """
        for attempt in range(_MAX_TRIES):
            try:
                return await self._write_once(stmts)
            except _RERUN:
                if attempt == _MAX_TRIES - 1:
                    raise
            except asyncpg.PostgresError as exc:
                if getattr(exc, "sqlstate", None) not in _RETRYABLE or attempt == _MAX_TRIES - 1:
                    raise
        raise AssertionError  # pragma: no cover - the loop returns or raises

    async def _write_once(self, stmts: Sequence[Stmt]) -> list[Result]:
        if len(stmts) == 1 and stmts[0].expect is None:
            # One statement is atomic on its own: skip the BEGIN/COMMIT round trips.
            async with self.pool.acquire() as conn:
                return await self._run(conn, stmts)
        if pg_batch.mergeable(stmts):
            return await self._run_merged(stmts)
        async with self.pool.acquire() as conn:
            tx = conn.transaction()
            try:
                await tx.start()
            except _BROKEN as exc:  # dead before BEGIN: nothing of the batch was sent
                raise _UnsentError from exc
            try:
                results = await self._run(conn, stmts)
            except BaseException:
                if not conn.is_closed():
                    await tx.rollback()
                raise
            await tx.commit()  # InterfaceError if the connection died before COMMIT was sent
            return results

    async def _run_merged(self, stmts: Sequence[Stmt]) -> list[Result]:
        """The batch as one statement (``pg_batch``): atomic, one round trip."""
        sql, params = pg_batch.merged(stmts)
        try:
            async with self.pool.acquire() as conn:
                row = await conn.fetchrow(sql, *params)
        except asyncpg.InvalidTextRepresentationError as exc:
            failed = pg_batch.failed_statement(str(exc))
            if failed is None:
                raise
            raise stmts[failed].error() from None
        assert row is not None  # noqa: S101 - the SELECT always returns its one row
        return [Result(int(row[n]), []) for n in range(len(stmts))]

    @staticmethod
    async def _run(conn: asyncpg.Connection, stmts: Sequence[Stmt]) -> list[Result]:
        results: list[Result] = []
        for stmt in stmts:
            sql = to_dollar(stmt.sql)
            if stmt.returning:
                records = await conn.fetch(sql, *stmt.params)
                rows: list[Row] = [tuple(r) for r in records]
                count = len(rows)
            else:
                count = _count(await conn.execute(sql, *stmt.params))
                rows = []
            if stmt.expect is not None and count != stmt.expect:
                raise stmt.error()
            results.append(Result(count, rows))
        return results

    async def close(self) -> None:
        """Close the pool."""
        await self.pool.close()
