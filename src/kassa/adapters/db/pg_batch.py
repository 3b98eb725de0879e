"""A batch of writes as one PostgreSQL statement: one round trip instead of BEGIN … COMMIT.

A unit of work's batch (say ``INSERT INTO sessions`` + ``UPDATE idempotency_keys``) would cost
``BEGIN``, one round trip per statement and ``COMMIT``. When the statements cannot see each
other's effects anyway, they run as data-modifying CTEs of one statement, which PostgreSQL
makes atomic on its own::

    WITH s0 AS (INSERT … RETURNING 1), s1 AS (UPDATE … RETURNING 1),
         n AS (SELECT (SELECT count(*) FROM s0) AS c0, (SELECT count(*) FROM s1) AS c1)
    SELECT c0, c1, CASE WHEN c1 <> 1 THEN ('kassa-expect-1-' || c1)::int END FROM n

Each statement's row count comes back; a statement whose ``expect`` is not met makes the cast
fail (``22P02``), which aborts the whole statement — every CTE's writes included — exactly as
the rollback of the transaction would, and names the statement, whose own ``error()`` is
raised. Row locks, unique and foreign keys (checked at the end of the statement, so a parent
inserted by a sibling CTE is seen) behave as in the transaction.

All CTEs see the same snapshot, so a batch is merged only when no statement could depend on
another: each is an INSERT, UPDATE or DELETE without its own RETURNING; no two write the same
table, except several plain ``INSERT … VALUES`` (no ``SELECT``, no ``ON CONFLICT``) into one,
or several statements each naming the one row it writes (``Stmt.row``), all rows distinct — a
ledger transaction's balance changes, one per account; and no statement reads (FROM, JOIN) a
table an earlier one wrote. Anything else keeps the transaction (``PostgresDriver``).

The CTEs run in the order of their counts in the final ``SELECT``, the batch's order, so the
balance rows, last and sorted, are still locked in one fixed order; were PostgreSQL ever to
run them otherwise, a deadlock would be detected and the batch retried (``40P01``).
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kassa.adapters.db.driver import Stmt

_TARGET = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+([a-z_]+)", re.IGNORECASE)
_TABLES = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+([a-z_]+)", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\?")
_FAILED = re.compile(r'"kassa-expect-(\d+)-')
MAX_PARAMS = 30_000  # PostgreSQL's limit is 32,767 parameters per statement


def mergeable(stmts: Sequence[Stmt]) -> bool:
    """True when the batch can run as one statement (see the module's rules)."""
    if len(stmts) < 2 and not any(s.expect is not None for s in stmts):  # noqa: PLR2004
        return False
    if sum(len(s.params) for s in stmts) > MAX_PARAMS:
        return False
    keyed = tuple(s.row is not None for s in stmts)
    if not _mergeable_shape(tuple(s.sql for s in stmts), tuple(s.returning for s in stmts), keyed):
        return False
    rows = [s.row for s in stmts if s.row is not None]
    return len(set(rows)) == len(rows)


_PLAIN, _KEYED, _OTHER = "plain", "keyed", "other"


@functools.lru_cache(maxsize=1024)
def _mergeable_shape(
    sqls: tuple[str, ...], returning: tuple[bool, ...], keyed: tuple[bool, ...]
) -> bool:
    """The rules on the statements' text (cached: a use case sends the same few shapes).

    A table may be written again only when all its writes are plain INSERTs, or all name
    their row (``keyed``; that the rows differ is checked on the values, in ``mergeable``).
    """
    written: dict[str, str] = {}  # table → what kind of write every write to it so far was
    for sql, returns, has_row in zip(sqls, returning, keyed, strict=True):
        found = _TARGET.match(sql)
        upper = sql.upper()
        if returns or found is None or "RETURNING" in upper or "WITH" in upper:
            return False
        table = found[1].lower()
        reads = {t.lower() for t in _TABLES.findall(sql)} - {table}
        if reads & written.keys():
            return False
        plain = upper.lstrip().startswith("INSERT") and not (
            "ON CONFLICT" in upper or "SELECT" in upper
        )
        kind = _KEYED if has_row else _PLAIN if plain else _OTHER
        if table in written and (kind == _OTHER or written[table] != kind):
            return False
        written[table] = kind
    return True


@functools.lru_cache(maxsize=512)
def merged_sql(sqls: tuple[str, ...], expects: tuple[int | None, ...]) -> str:
    """The one statement for these statements (cached: asyncpg prepares it once)."""
    counter = iter(range(1, MAX_PARAMS + 1))
    parts = []
    for n, sql in enumerate(sqls):
        numbered = _PLACEHOLDER.sub(lambda _m: f"${next(counter)}", sql)
        parts.append(f"s{n} AS ({numbered} RETURNING 1)")
    counts = ", ".join(f"(SELECT count(*) FROM s{n}) AS c{n}" for n in range(len(sqls)))
    columns = [f"c{n}" for n in range(len(sqls))]
    columns += [
        f"CASE WHEN c{n} <> {expect} THEN ('kassa-expect-{n}-' || c{n})::int END"
        for n, expect in enumerate(expects)
        if expect is not None
    ]
    return f"WITH {', '.join(parts)}, n AS (SELECT {counts}) SELECT {', '.join(columns)} FROM n"


def merged(stmts: Sequence[Stmt]) -> tuple[str, list[Any]]:
    """The merged statement and its parameters, in order."""
    sql = merged_sql(tuple(s.sql for s in stmts), tuple(s.expect for s in stmts))
    return sql, [p for s in stmts for p in s.params]


def failed_statement(message: str) -> int | None:
    """Which statement's ``expect`` failed, from the cast error's message (None: another)."""
    found = _FAILED.search(message)
    return None if found is None else int(found[1])
