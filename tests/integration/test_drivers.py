"""The two database drivers under the store: atomic batches on both; SQLite's writer design.

SQLite (``adapters/db/sqlite.py``): stdlib sqlite3, WAL, group commit run from the event loop
(one SAVEPOINT per job, one COMMIT per group of jobs), reads on a query-only connection; more
of its design in ``test_sqlite_group_commit.py``. PostgreSQL
(``adapters/db/postgres.py``): asyncpg, raw SQL with ``?`` rewritten to ``$n``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from kassa.adapters.db.driver import Stmt
from kassa.adapters.db.postgres import PostgresDriver, to_dollar
from kassa.adapters.db.sqlite import SqliteDriver
from kassa.adapters.db.unit_of_work import balance_statements
from kassa.domain.errors import ConcurrentUpdate, InternalError
from testkit import SCRATCH_TABLE, raw_driver, scratch_insert, scratch_keys


@pytest.fixture
async def driver(database_url: str):
    """A raw driver on the test's database, with an empty scratch table."""
    opened = await raw_driver(database_url)
    await opened.write([SCRATCH_TABLE])
    try:
        yield opened
    finally:
        await opened.close()


# --- both drivers --------------------------------------------------------------------------


async def test_a_batch_commits_all_its_statements(driver):
    """Several statements in one ``write`` all land, and their row counts are reported."""
    results = await driver.write(
        [scratch_insert("a"), scratch_insert("b"), Stmt("UPDATE scratch SET v = v + 1", ())]
    )
    assert [r.rowcount for r in results] == [1, 1, 2]
    assert await scratch_keys(driver) == ["a", "b"]


async def test_a_failing_statement_rolls_the_whole_batch_back(driver):
    """A constraint violation in the second statement undoes the first."""
    await driver.write([scratch_insert("a")])
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await driver.write([scratch_insert("b"), scratch_insert("a")])
    assert await scratch_keys(driver) == ["a"]


async def test_row_count_mismatch_raises_and_rolls_back(driver):
    """``Stmt(expect=1)`` touching no row raises ConcurrentUpdate; the batch leaves no trace."""
    stale = Stmt("UPDATE scratch SET v = 2 WHERE k = ?", ("missing",), expect=1)
    with pytest.raises(ConcurrentUpdate):
        await driver.write([scratch_insert("a"), stale])
    assert await scratch_keys(driver) == []


async def test_returning_rows_come_back(driver):
    """``returning=True`` hands back the rows the statement returns."""
    [result] = await driver.write(
        [Stmt("INSERT INTO scratch (k, v) VALUES (?, ?) RETURNING k, v", ("a", 7), returning=True)]
    )
    assert result.rows == [("a", 7)]


async def test_concurrent_writers_all_land(driver):
    """200 concurrent single-row writes from one event loop: every row is there once."""
    await asyncio.gather(*(driver.write([scratch_insert(f"k{i:03d}", i)]) for i in range(200)))
    assert await scratch_keys(driver) == [f"k{i:03d}" for i in range(200)]


def test_placeholders_are_rewritten_for_asyncpg():
    """The shared SQL's ``?`` placeholders become ``$1, $2, …`` on PostgreSQL."""
    assert to_dollar("SELECT ? , ? FROM t WHERE a = ?") == "SELECT $1 , $2 FROM t WHERE a = $3"


# --- SQLite: WAL, group commit from the loop ------------------------------------------


@pytest.fixture
async def lite(sqlite_url: str):
    """A SQLite driver with a scratch table."""
    opened = await raw_driver(sqlite_url)
    assert isinstance(opened, SqliteDriver)
    await opened.write([SCRATCH_TABLE])
    try:
        yield opened
    finally:
        await opened.close()


async def test_sqlite_runs_in_wal_with_full_sync(lite):
    """The database file is in WAL mode; the writer syncs every commit."""
    assert await lite.fetch("PRAGMA journal_mode") == [("wal",)]
    assert lite._writer.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL


async def test_sqlite_reads_are_query_only(lite):
    """The read connection refuses writes: only the writer connection changes the database."""
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await lite.fetch("INSERT INTO scratch (k, v) VALUES ('x', 1)")
    assert await scratch_keys(lite) == []


async def test_sqlite_groups_concurrent_jobs_into_few_commits(lite):
    """Concurrent jobs share COMMITs, each in a SAVEPOINT run on the loop's own thread.

    ``BEGIN IMMEDIATE`` runs on the loop too (it never waits inside SQLite); only ``COMMIT``
    (the fsync) runs on the helper thread.
    """
    seen: list[tuple[str, str]] = []
    lite._writer.set_trace_callback(lambda sql: seen.append((sql, threading.current_thread().name)))
    try:
        await asyncio.gather(*(lite.write([scratch_insert(f"k{i:03d}")]) for i in range(100)))
    finally:
        lite._writer.set_trace_callback(None)
    statements = [sql for sql, _ in seen]
    commits = statements.count("COMMIT")
    assert statements.count("SAVEPOINT job") == 100
    assert 1 <= commits < 100, f"{commits} commits for 100 jobs: no grouping"
    loop_thread = threading.current_thread().name
    waits = {name for sql, name in seen if sql == "COMMIT"}
    assert len(waits) == 1
    assert waits.pop().startswith("kassa-sqlite-commit")
    assert {name for sql, name in seen if sql != "COMMIT"} == {loop_thread}
    assert lite._writer.execute("PRAGMA busy_timeout").fetchone() == (0,)
    assert len(await scratch_keys(lite)) == 100


async def test_sqlite_failing_job_rolls_back_alone_inside_its_group(lite):
    """In one group, a failing job's SAVEPOINT is rolled back; its neighbours still commit."""
    await lite.write([scratch_insert("taken")])
    seen: list[str] = []
    lite._writer.set_trace_callback(seen.append)
    try:
        outcomes = await asyncio.gather(
            lite.write([scratch_insert("a")]),
            lite.write([scratch_insert("b"), scratch_insert("taken")]),
            lite.write([scratch_insert("c")]),
            return_exceptions=True,
        )
    finally:
        lite._writer.set_trace_callback(None)
    assert isinstance(outcomes[1], sqlite3.IntegrityError)
    assert not isinstance(outcomes[0], BaseException)
    assert not isinstance(outcomes[2], BaseException)
    assert "ROLLBACK TO job" in seen
    assert await scratch_keys(lite) == ["a", "c", "taken"]


async def test_sqlite_close_finishes_queued_jobs(sqlite_url):
    """Jobs queued before ``close`` are committed; the helper thread is then shut down."""
    lite = await raw_driver(sqlite_url)
    assert isinstance(lite, SqliteDriver)
    await lite.write([SCRATCH_TABLE])
    pending = [asyncio.ensure_future(lite.write([scratch_insert(f"k{i}")])) for i in range(20)]
    await asyncio.sleep(0)
    await lite.close()
    await asyncio.gather(*pending)
    assert lite._idle.is_set()
    with pytest.raises(RuntimeError, match="shutdown"):
        lite._waits.submit(print)
    reopened = SqliteDriver(lite.path)
    try:
        assert len(await scratch_keys(reopened)) == 20
    finally:
        await reopened.close()


@pytest.mark.postgres
async def test_postgres_driver_is_asyncpg(pg_url):
    """The PostgreSQL driver talks asyncpg with a pool."""
    opened = await raw_driver(pg_url)
    try:
        assert isinstance(opened, PostgresDriver)
        assert await opened.fetch("SELECT ?::int + ?::int", (2, 3)) == [(5,)]
    finally:
        await opened.close()


# --- PostgreSQL: batches as one statement (adapters/db/pg_batch.py) --------------------------


@pytest.fixture
async def pg(pg_url: str):
    """The PostgreSQL driver with parent/child/scratch tables."""
    opened = await raw_driver(pg_url)
    await opened.write(
        [
            SCRATCH_TABLE,
            Stmt("CREATE TABLE parent (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"),
            Stmt("CREATE TABLE child (k TEXT PRIMARY KEY, parent TEXT REFERENCES parent (k))"),
        ]
    )
    try:
        yield opened
    finally:
        await opened.close()


@pytest.mark.postgres
async def test_a_merged_batch_reports_counts_and_sees_its_siblings_keys(pg):
    """One round trip: counts per statement; a child may name a parent made beside it."""
    results = await pg.write(
        [
            Stmt("INSERT INTO child (k, parent) VALUES (?, ?)", ("c", "p")),
            Stmt("INSERT INTO parent (k, v) VALUES (?, ?)", ("p", 1), expect=1),
            Stmt("UPDATE scratch SET v = 2 WHERE k = ?", ("none",)),
        ]
    )
    assert [r.rowcount for r in results] == [1, 1, 0]
    assert await pg.fetch("SELECT k, parent FROM child") == [("c", "p")]


@pytest.mark.postgres
async def test_a_failed_expectation_in_a_merged_batch_undoes_every_statement(pg):
    """The guard aborts the one statement: nothing lands, and that statement's error is raised."""
    await pg.write([Stmt("INSERT INTO parent (k, v) VALUES ('p', 1)")])

    class Stale(ConcurrentUpdate):
        pass

    with pytest.raises(Stale):
        await pg.write(
            [
                Stmt("INSERT INTO child (k, parent) VALUES (?, ?)", ("c", "p")),
                Stmt("UPDATE parent SET v = 2 WHERE k = ? AND v = ?", ("p", 7), 1, error=Stale),
            ]
        )
    assert await pg.fetch("SELECT count(*) FROM child") == [(0,)]
    assert await pg.fetch("SELECT v FROM parent") == [(1,)]
    with pytest.raises(ConcurrentUpdate):  # a single statement with an expectation, merged too
        await pg.write([Stmt("UPDATE parent SET v = 3 WHERE v = ?", (9,), expect=1)])
    assert await pg.fetch("SELECT v FROM parent") == [(1,)]


@pytest.mark.postgres
async def test_a_captures_two_balance_rows_run_as_one_statement_and_stay_guarded(pg, monkeypatch):
    """A debit and a credit of ``balances`` name their rows: merged, and the debit's guard holds.

    (The test database is migrated: ``balances`` is kassa's own table.)

    A capture moves ``holds`` → ``merchant_balance``; before the rows were named, writing one
    table twice sent the whole batch as BEGIN, a statement each and COMMIT.
    """
    merged: list[int] = []
    run_merged = PostgresDriver._run_merged

    async def counting(self: PostgresDriver, stmts: list[Stmt]) -> object:
        merged.append(len(stmts))
        return await run_merged(self, stmts)

    monkeypatch.setattr(PostgresDriver, "_run_merged", counting)
    await pg.write([Stmt("INSERT INTO balances VALUES ('p', 'holds', 'usd', 100)")])

    def capture(amount: int) -> list[Stmt]:
        moves = {("p", "holds", "usd"): -amount, ("p", "merchant_balance", "usd"): amount}
        return balance_statements(moves)

    await pg.write([scratch_insert("first"), *capture(60)])
    assert merged == [3]
    with pytest.raises(InternalError, match="holds"):  # 40 left: the guard refuses 41
        await pg.write([scratch_insert("second"), *capture(41)])
    assert merged == [3, 3]
    assert await scratch_keys(pg) == ["first"]
    rows = "SELECT account, amount FROM balances ORDER BY account"
    assert await pg.fetch(rows) == [("holds", 40), ("merchant_balance", 60)]
