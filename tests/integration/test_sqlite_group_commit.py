"""SQLite's group commit from the event loop (``adapters/db/sqlite.py``).

The statements of a group run on the loop that drains the queue. ``BEGIN IMMEDIATE`` runs there
too and never waits inside SQLite: while another process holds the write lock the drain sleeps
on the loop and tries again. ``COMMIT``, which waits for the disk, runs on a helper thread.
These tests hold the write lock from a second connection (as a ``kassa worker`` process would)
to show that a wait never blocks the loop, that a lock held too long fails only its group, and
that writes from several loops, or a drain cancelled by its loop's shutdown, still get every
answer.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from typing import TYPE_CHECKING

import pytest

from kassa.adapters.db.sqlite import SqliteDriver
from testkit import SCRATCH_TABLE, scratch_insert, scratch_keys

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator


@pytest.fixture
def path(tmp_path) -> str:
    """A fresh database file."""
    return str(tmp_path / "group.sqlite3")


@pytest.fixture
async def lite(path: str) -> AsyncIterator[SqliteDriver]:
    """A driver with a scratch table."""
    opened = SqliteDriver(path)
    await opened.write([SCRATCH_TABLE])
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def holder(path: str) -> Iterator[sqlite3.Connection]:
    """A second connection, as another process's would be.

    ``BEGIN IMMEDIATE`` on it holds the write lock.
    """
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


def release_later(conn: sqlite3.Connection, seconds: float) -> threading.Timer:
    """Commit ``conn``'s transaction (releasing the write lock) from a timer thread."""
    timer = threading.Timer(seconds, conn.execute, ("COMMIT",))
    timer.start()
    return timer


async def test_waiting_for_another_process_lock_leaves_the_loop_free(lite, holder):
    """While another connection holds the write lock, the loop keeps serving other work."""
    holder.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.ensure_future(tick())
    timer = release_later(holder, 0.4)
    try:
        await asyncio.wait_for(lite.write([scratch_insert("a")]), 10)
    finally:
        ticker.cancel()
        timer.join()
    assert ticks >= 10, f"the loop ran {ticks} times in 0.4 s of waiting for the lock"
    assert await scratch_keys(lite) == ["a"]


async def test_a_lock_held_too_long_fails_only_its_group(path, holder):
    """A write that cannot get the lock within the busy timeout fails; the next one lands."""
    lite = SqliteDriver(path, busy_timeout_ms=100)
    try:
        await lite.write([SCRATCH_TABLE])
        holder.execute("BEGIN IMMEDIATE")
        timer = release_later(holder, 0.6)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await asyncio.wait_for(lite.write([scratch_insert("a")]), 10)
        timer.join()
        await asyncio.wait_for(lite.write([scratch_insert("b")]), 10)
        assert await scratch_keys(lite) == ["b"]
        assert not lite._writer.in_transaction
    finally:
        await lite.close()


def _write_in_own_loop(lite: SqliteDriver, prefix: str, count: int, start: threading.Barrier):
    async def run() -> None:
        start.wait()
        await asyncio.gather(
            *(lite.write([scratch_insert(f"{prefix}{i:03d}")]) for i in range(count))
        )

    asyncio.run(asyncio.wait_for(run(), 20))


async def test_writes_from_two_loops_all_commit(lite, monkeypatch):
    """Two threads with their own loops write at once; every row lands once.

    A drain answers the other loop's writes too: that is seen, or the test fails.
    """
    crossed: list[bool] = []
    resolve = SqliteDriver._resolve

    def spy(group, outcomes) -> None:
        here = asyncio.get_running_loop()
        crossed.append(any(loop is not here for _stmts, loop, _fut in group))
        resolve(group, outcomes)

    monkeypatch.setattr(SqliteDriver, "_resolve", staticmethod(spy))
    for attempt in range(20):
        start = threading.Barrier(2)
        threads = [
            threading.Thread(target=_write_in_own_loop, args=(lite, f"{attempt}{side}", 100, start))
            for side in "xy"
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            await asyncio.to_thread(thread.join, 30)
        assert not any(t.is_alive() for t in threads)
        if any(crossed):
            break
    assert any(crossed), "no group ever held another loop's write"
    assert len(await scratch_keys(lite)) == 200 * (attempt + 1)


async def test_a_cancelled_drain_still_answers_every_queued_write(lite, holder):
    """A drain cancelled while it waits for the lock still answers every write.

    Cancelled as by its loop's shutdown, it finishes the queued work, another loop's write
    included, and leaves no transaction open.
    """
    holder.execute("BEGIN IMMEDIATE")
    mine = asyncio.ensure_future(lite.write([scratch_insert("mine")]))
    await asyncio.sleep(0.05)  # the drain is waiting for the lock, sleeping between tries
    [drain] = lite._drains
    other = threading.Thread(
        target=_write_in_own_loop, args=(lite, "other", 1, threading.Barrier(1))
    )
    other.start()
    deadline = time.monotonic() + 5
    while len(lite._queue) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert len(lite._queue) == 2
    timer = release_later(holder, 0.3)
    drain.cancel()
    with pytest.raises(asyncio.CancelledError):
        await drain
    timer.join()
    other.join(10)
    assert not other.is_alive(), "the other loop's write was never answered"
    assert (await mine) is not None
    assert await scratch_keys(lite) == ["mine", "other000"]
    assert not lite._writer.in_transaction
    assert lite._idle.is_set()


async def test_a_drain_cancelled_before_it_ran_still_commits(lite):
    """A drain cancelled before its first step (its loop closing) never ran its body.

    It still owns the writer, so the queued write is committed once it is done and the next
    write starts a drain of its own.
    """
    pending = asyncio.ensure_future(lite.write([scratch_insert("queued")]))
    await asyncio.sleep(0)  # the write has queued and scheduled its drain, not yet run
    [drain] = lite._drains
    drain.cancel()
    await asyncio.wait_for(pending, 10)
    assert drain.cancelled()
    assert lite._idle.is_set()
    await asyncio.wait_for(lite.write([scratch_insert("next")]), 10)
    assert await scratch_keys(lite) == ["next", "queued"]
    assert not lite._writer.in_transaction


async def test_a_drain_cancelled_before_its_commit_started_still_commits(lite):
    """A drain cancelled while its ``COMMIT`` is still queued for the helper thread.

    The cancellation also cancels that queued call, so it never runs there; the drain runs it
    itself, commits the group and every caller gets its answer, not a cancellation.
    """
    busy = threading.Event()
    blocker = lite._waits.submit(busy.wait, 10)  # the helper thread is taken
    try:
        pending = asyncio.ensure_future(lite.write([scratch_insert("queued")]))
        deadline = time.monotonic() + 5
        while not lite._drains and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # the drain waits for its COMMIT, queued behind the blocker
        [drain] = lite._drains
        drain.cancel()
        with pytest.raises(asyncio.CancelledError):
            await drain
        assert (await asyncio.wait_for(pending, 10)) is not None
    finally:
        busy.set()
        blocker.result(10)
    assert await scratch_keys(lite) == ["queued"]
    assert not lite._writer.in_transaction
    assert lite._idle.is_set()
