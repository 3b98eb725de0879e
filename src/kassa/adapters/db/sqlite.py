"""SQLite driver: stdlib sqlite3, WAL, one writer thread with group commit.

Each write batch is one job on the writer thread, wrapped in a SAVEPOINT so a failing job rolls
back alone; the thread drains up to ``MAX_GROUP`` jobs, issues one COMMIT (synchronous=FULL)
and only then resolves the callers' futures. Reads use a separate query-only connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from typing import TYPE_CHECKING, Any

from kassa.adapters.db.driver import Result, Row, Stmt

if TYPE_CHECKING:
    from collections.abc import Sequence

MAX_GROUP = 256
_Job = tuple["Sequence[Stmt]", asyncio.AbstractEventLoop, "asyncio.Future[list[Result]]"]


def _connect(path: str, *, readonly: bool, busy_timeout_ms: int) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    if readonly:
        conn.execute("PRAGMA query_only=ON")
    return conn


def _run_job(conn: sqlite3.Connection, stmts: Sequence[Stmt]) -> list[Result]:
    results = []
    for stmt in stmts:
        cur = conn.execute(stmt.sql, tuple(stmt.params))
        rows: list[Row] = cur.fetchall() if stmt.returning else []
        count = cur.rowcount
        if stmt.expect is not None and count != stmt.expect:
            raise stmt.error()
        results.append(Result(count, rows))
    return results


def _settle(fut: asyncio.Future[list[Result]], value: list[Result] | BaseException) -> None:
    if fut.done():
        return
    if isinstance(value, BaseException):
        fut.set_exception(value)
    else:
        fut.set_result(value)


class SqliteDriver:
    """A SQLite database file behind one writer thread."""

    dialect = "sqlite"

    def __init__(self, path: str, *, busy_timeout_ms: int = 30_000) -> None:
        """Open the database (which must already be migrated) and start the writer.

        A write waiting longer than ``busy_timeout_ms`` for another process's lock fails
        (``database is locked``) and its group is rolled back.
        """
        self.path = path
        self._reader = _connect(path, readonly=True, busy_timeout_ms=busy_timeout_ms)
        self._writer = _connect(path, readonly=False, busy_timeout_ms=busy_timeout_ms)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="kassa-sqlite-writer", daemon=True)
        self._thread.start()

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Read on the query-only connection (WAL readers never wait for the writer)."""
        return self._reader.execute(sql, tuple(params)).fetchall()

    async def write(self, stmts: Sequence[Stmt]) -> list[Result]:
        """Queue the batch for the writer and wait until its group has committed."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[list[Result]] = loop.create_future()
        self._jobs.put((stmts, loop, fut))
        return await fut

    def _loop(self) -> None:
        conn = self._writer
        while True:
            first = self._jobs.get()
            if first is None:
                return
            group = [first]
            while len(group) < MAX_GROUP:
                try:
                    nxt = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._jobs.put(None)
                    break
                group.append(nxt)
            self._commit_group(conn, group)

    def _commit_group(self, conn: sqlite3.Connection, group: list[_Job]) -> None:
        outcomes: list[list[Result] | BaseException] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for stmts, _loop, _fut in group:
                conn.execute("SAVEPOINT job")
                try:
                    outcomes.append(_run_job(conn, stmts))
                except Exception as exc:  # noqa: BLE001 - handed to the caller's future
                    conn.execute("ROLLBACK TO job")
                    outcomes.append(exc)
                conn.execute("RELEASE job")
            conn.execute("COMMIT")
        except Exception as exc:  # noqa: BLE001 - the whole group failed: tell every caller
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            outcomes = [exc] * len(group)
        for (_stmts, loop, fut), outcome in zip(group, outcomes, strict=True):
            with contextlib.suppress(RuntimeError):  # the caller's loop has closed
                loop.call_soon_threadsafe(_settle, fut, outcome)

    async def close(self) -> None:
        """Stop the writer after the queued jobs and close both connections."""
        self._jobs.put(None)
        await asyncio.to_thread(self._thread.join)
        self._writer.close()
        self._reader.close()
