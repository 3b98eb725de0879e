"""PostgreSQL driver: asyncpg pool, raw SQL, one transaction per batch, 40001/40P01 retried.

Behind pgbouncer in transaction mode (``?pgbouncer=1`` in the URL, see ``pool_options``) the
pool keeps no named prepared statements: each server connection may serve another client
between two transactions, so a statement prepared on it could be missing or someone else's.
kassa holds no other session state: no LISTEN, no session ``SET`` (only ``SET LOCAL`` inside a
transaction), no advisory locks, no cursors across transactions.
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
    async def connect(cls, url: str, *, min_size: int = 1, max_size: int = 10) -> PostgresDriver:
        """Open a pool to ``url`` (released connections get the cheap reset below)."""
        dsn, options = pool_options(url)
        pool = await asyncpg.create_pool(
            dsn, min_size=min_size, max_size=max_size, reset=_cheap_reset, **options
        )
        return cls(pool)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a read query."""
        records = await self.pool.fetch(to_dollar(sql), *params)
        return [tuple(r) for r in records]

    async def write(self, stmts: Sequence[Stmt]) -> list[Result]:
        """Run the batch in one transaction, retrying serialization failures."""
        for attempt in range(_MAX_TRIES):
            try:
                return await self._write_once(stmts)
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
        async with self.pool.acquire() as conn, conn.transaction():
            return await self._run(conn, stmts)

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
