"""SQLite driver: stdlib sqlite3, WAL, group commit run from the event loop.

Writes queue up while a group is being committed. A drain, running on the loop of the write
that found no drain, takes the write lock (``BEGIN IMMEDIATE``, which never waits inside
SQLite: while another process holds the lock the drain sleeps on the loop and tries again),
runs every queued job's statements on the loop, each in a SAVEPOINT so a failing job rolls
back alone, and commits (synchronous=FULL: the WAL is fsynced) on a helper thread; only then
are the callers' futures resolved. Only the fsync leaves the loop, so a group costs one thread
hand-off instead of one GIL hand-over per statement (``docs/decisions.md``). Reads use a
separate query-only connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from kassa.adapters.db.driver import Result, Row, Stmt

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from concurrent.futures import Future

MAX_GROUP = 256
_FIRST_PAUSE, _LAST_PAUSE = 0.001, 0.05  # seconds between tries for another process's lock
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


def _lock_pauses(writer: sqlite3.Connection, busy_timeout: float) -> Iterator[float]:
    """Take the write lock; yield a pause each time another process holds it.

    ``BEGIN IMMEDIATE`` either gets the lock at once or fails busy (the writer's own busy
    timeout is 0), so the loop never waits inside SQLite; the caller sleeps each pause,
    doubling up to 50 ms, until the lock is free or ``busy_timeout`` seconds have passed.
    """
    deadline = time.monotonic() + busy_timeout
    pause = _FIRST_PAUSE
    while True:
        try:
            writer.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
        else:
            return
        yield min(pause, max(0.0, deadline - time.monotonic()))
        pause = min(pause * 2, _LAST_PAUSE)


class _Waits:
    """The two waits of a drain: for another process's write lock, and for the COMMIT.

    On the loop the lock is waited for in ``asyncio.sleep`` pauses and the COMMIT on the
    helper thread. A drain that never ran on its loop (``blocking``) or was cancelled while
    it waited (its loop shutting down) waits blocking from then on; a COMMIT the cancellation
    took off the helper thread's queue before it started is run here instead.
    """

    def __init__(
        self,
        writer: sqlite3.Connection,
        helper: ThreadPoolExecutor,
        busy_timeout: float,
        *,
        blocking: bool,
    ) -> None:
        self._writer = writer
        self._helper = helper
        self._busy_timeout = busy_timeout
        self._blocking = blocking
        self.cancelled = False

    async def begin(self) -> None:
        """``BEGIN IMMEDIATE``, pausing while another process holds the lock."""
        for pause in _lock_pauses(self._writer, self._busy_timeout):
            if self._blocking or self.cancelled:
                time.sleep(pause)  # noqa: ASYNC251 - finishing blocking is the point here
                continue
            try:
                await asyncio.sleep(pause)
            except asyncio.CancelledError:
                self.cancelled = True

    async def commit(self) -> None:
        """``COMMIT`` (the fsync) on the helper thread, or here once blocking."""
        writer = self._writer
        if self._blocking or self.cancelled:
            writer.execute("COMMIT")
            return
        done: Future[sqlite3.Cursor] = self._helper.submit(writer.execute, "COMMIT")
        try:
            await asyncio.wrap_future(done)
        except asyncio.CancelledError:
            self.cancelled = True
            if done.cancel():  # still queued for the helper thread: it will never run
                writer.execute("COMMIT")
            else:
                done.result()


class SqliteDriver:
    """A SQLite database file, written in groups, one transaction per group."""

    dialect = "sqlite"

    def __init__(self, path: str, *, busy_timeout_ms: int = 30_000) -> None:
        """Open the database (which must already be migrated).

        A write waiting longer than ``busy_timeout_ms`` for another process's lock fails
        (``database is locked``) and its group is rolled back.
        """
        self.path = path
        self._busy_timeout = busy_timeout_ms / 1000
        self._reader = _connect(path, readonly=True, busy_timeout_ms=busy_timeout_ms)
        # The writer never waits inside SQLite: a busy lock is retried by ``_lock_pauses``.
        self._writer = _connect(path, readonly=False, busy_timeout_ms=0)
        self._waits = ThreadPoolExecutor(1, thread_name_prefix="kassa-sqlite-commit")
        self._lock = threading.Lock()  # guards the queue and the owner (any loop, any thread)
        self._queue: list[_Job] = []
        self._owner: object | None = None  # the running drain's token: one drain at a time
        self._idle = threading.Event()  # set while no drain owns the writer
        self._idle.set()
        self._drains: set[asyncio.Task[None]] = set()  # referenced until done

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Read on the query-only connection (WAL readers never wait for the writer)."""
        return self._reader.execute(sql, tuple(params)).fetchall()

    async def write(self, stmts: Sequence[Stmt]) -> list[Result]:
        """Queue the batch and wait until its group has committed."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[list[Result]] = loop.create_future()
        token = None
        with self._lock:
            self._queue.append((stmts, loop, fut))
            if self._owner is None:
                self._owner = token = object()
                self._idle.clear()
        if token is not None:
            self._drains.add(task := loop.create_task(self._drain(token)))
            task.add_done_callback(functools.partial(self._drained, token))
        return await fut

    def _drained(self, token: object, task: asyncio.Task[None]) -> None:
        """Once a drain is done: if it never ran, finish the queued work here.

        A drain cancelled before its first step (its loop closing) still owns the writer; the
        queued work is finished here, blocking, so no caller is left without an answer.
        """
        self._drains.discard(task)
        with self._lock:
            unfinished = self._owner is token
        if unfinished:
            with contextlib.suppress(StopIteration):  # it never waits: one step runs it all
                self._drain(token, blocking=True).send(None)

    async def _drain(self, token: object, *, blocking: bool = False) -> None:
        """Commit queued groups until the queue is empty, then give up the writer.

        Cancelled while it waits (its loop shutting down), it finishes the queued work
        blocking (``_Waits``), so no caller, whichever its loop, is left without an answer and
        no transaction stays open.
        """
        waits = _Waits(self._writer, self._waits, self._busy_timeout, blocking=blocking)
        try:
            while True:
                with self._lock:  # found empty and given up at once: no write slips between
                    if not self._queue:
                        self._release(token)
                        break
                await self._commit_group(waits)
        except BaseException:
            with self._lock:
                self._release(token)
            raise
        if waits.cancelled:
            raise asyncio.CancelledError

    def _release(self, token: object) -> None:
        """Give up the writer (under ``_lock``), if ``token``'s drain still holds it."""
        if self._owner is token:
            self._owner = None
            self._idle.set()

    async def _commit_group(self, waits: _Waits) -> None:
        conn = self._writer
        outcomes: list[list[Result] | BaseException] = []
        failed: Exception | None = None
        try:
            await waits.begin()
        except Exception as exc:  # noqa: BLE001 - no lock: this group fails, whoever is in it
            failed = exc
        with self._lock:  # taken once the lock is waited for: writes queued meanwhile join in
            group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
        if failed is not None:
            self._resolve(group, [failed] * len(group))
            return
        try:
            for stmts, _loop, _fut in group:
                conn.execute("SAVEPOINT job")
                try:
                    outcomes.append(_run_job(conn, stmts))
                except Exception as exc:  # noqa: BLE001 - handed to the caller's future
                    conn.execute("ROLLBACK TO job")
                    outcomes.append(exc)
                conn.execute("RELEASE job")
            await waits.commit()
        except Exception as exc:  # noqa: BLE001 - the whole group failed: tell every caller
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            outcomes = [exc] * len(group)
        self._resolve(group, outcomes)

    @staticmethod
    def _resolve(group: list[_Job], outcomes: Sequence[list[Result] | BaseException]) -> None:
        here = asyncio.get_running_loop()
        for (_stmts, loop, fut), outcome in zip(group, outcomes, strict=True):
            if loop is here:
                _settle(fut, outcome)
                continue
            with contextlib.suppress(RuntimeError):  # the caller's loop has closed
                loop.call_soon_threadsafe(_settle, fut, outcome)

    async def close(self) -> None:
        """Wait for the queued writes to commit, then close both connections."""
        await asyncio.to_thread(self._idle.wait)
        self._waits.shutdown()
        self._writer.close()
        self._reader.close()
