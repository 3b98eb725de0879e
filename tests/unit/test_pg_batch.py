"""Which write batches run as one PostgreSQL statement (``adapters/db/pg_batch.py``)."""

from __future__ import annotations

import pytest

from kassa.adapters.db import pg_batch
from kassa.adapters.db.driver import Stmt

SESSION = Stmt("INSERT INTO sessions (id, v) VALUES (?, ?)", ("s", 1))
KEY_DONE = Stmt("UPDATE idempotency_keys SET state = ? WHERE key = ?", ("done", "k"), expect=1)
POSTING = Stmt("INSERT INTO ledger_postings (t, a) VALUES (?, ?)", ("t", 1))
BALANCE_ROW = Stmt("INSERT INTO balances (k, a) VALUES (?, 0) ON CONFLICT DO NOTHING", ("k",))
BALANCE_ADD = Stmt("UPDATE balances SET a = a + ? WHERE k = ?", (1, "k"))
TERMS_FROM_SESSIONS = Stmt("INSERT INTO terms (id) SELECT id FROM sessions WHERE id = ?", ("s",))
CREDIT = Stmt(  # balance_statements' shapes: each names the one row it writes
    "INSERT INTO balances (k, a) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET a = balances.a + 1",
    ("merchant", 1),
    row=("balances", "merchant"),
)
DEBIT = Stmt(
    "UPDATE balances SET a = a - ? WHERE k = ? AND a >= ?",
    (1, "holds", 1),
    expect=1,
    row=("balances", "holds"),
)


@pytest.mark.parametrize(
    ("stmts", "merged"),
    [
        ([SESSION, KEY_DONE], True),  # a create: two tables
        ([POSTING, POSTING], True),  # plain INSERT … VALUES into one table
        ([KEY_DONE], True),  # one statement with an expectation: no BEGIN/COMMIT either
        ([SESSION], False),  # one statement, nothing to check: already one round trip
        ([BALANCE_ROW, BALANCE_ADD], False),  # the UPDATE must see the row the INSERT made
        ([KEY_DONE, KEY_DONE], False),  # two UPDATEs of one table
        ([SESSION, TERMS_FROM_SESSIONS], False),  # reads what an earlier statement wrote
        ([TERMS_FROM_SESSIONS, SESSION], True),  # reads before the write: same as in a tx
        ([SESSION, Stmt("SELECT 1")], False),  # not a write
        ([SESSION, Stmt("INSERT INTO x (a) VALUES (?) RETURNING a", (1,))], False),
        ([SESSION, Stmt("UPDATE y SET a = 1", (), returning=True)], False),
        ([SESSION, Stmt("WITH d AS (SELECT 1) UPDATE y SET a = 1")], False),
        ([SESSION, KEY_DONE, DEBIT, CREDIT], True),  # a capture: two balance rows, each named
        ([DEBIT, DEBIT], False),  # the same row twice: the second could not see the first
        ([DEBIT, BALANCE_ADD], False),  # a named row beside an unnamed write of its table
        ([POSTING, Stmt(POSTING.sql, ("t", 2), row=("ledger_postings", "t"))], False),
    ],
)
def test_only_batches_whose_statements_cannot_see_each_other_merge(
    stmts: list[Stmt], merged: bool
) -> None:
    """Merging changes visibility between statements, so only independent ones merge."""
    assert pg_batch.mergeable(stmts) is merged


def test_the_merged_statement_numbers_parameters_and_guards_expectations() -> None:
    """``$n`` run on across statements; each expectation has its guard naming the statement."""
    sql, params = pg_batch.merged([SESSION, KEY_DONE])
    assert params == ["s", 1, "done", "k"]
    assert "VALUES ($1, $2) RETURNING 1" in sql
    assert "SET state = $3 WHERE key = $4 RETURNING 1" in sql
    assert "CASE WHEN c1 <> 1 THEN ('kassa-expect-1-' || c1)::int END" in sql
    assert "c0 <>" not in sql
    assert (
        pg_batch.failed_statement('invalid input syntax for type integer: "kassa-expect-1-0"') == 1
    )
    assert pg_batch.failed_statement('invalid input syntax for type integer: "x"') is None
    too_many = [Stmt("INSERT INTO t (a) VALUES (?)", tuple(range(20_000)))] * 2
    assert not pg_batch.mergeable(too_many)
