"""What a database driver gives the shared store: reads, and atomic batches of statements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from kassa.domain.errors import ConcurrentUpdate, KassaError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

Row = tuple[Any, ...]


def _concurrent_update() -> KassaError:
    return ConcurrentUpdate("the record changed under this request; retry")


@dataclass(frozen=True, slots=True)
class Stmt:
    """One SQL statement with ``?`` placeholders.

    ``expect`` is the row count it must touch, else ``error()`` is raised and the whole batch
    rolls back (an optimistic version check). ``returning`` asks for the rows it returns.
    ``row`` names the one row the statement writes (its table and key), when that is known:
    statements of one batch that name distinct rows of a table cannot see each other's
    writes, so PostgreSQL may run them as one statement (``pg_batch``).
    """

    sql: str
    params: Sequence[Any] = ()
    expect: int | None = None
    returning: bool = False
    error: Callable[[], KassaError] = field(default=_concurrent_update)
    row: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """What one statement did: rows touched and rows returned."""

    rowcount: int
    rows: list[Row]


class Driver(Protocol):
    """A database connection strategy (SQLite group commit, asyncpg pool)."""

    dialect: str

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a read query and return every row."""
        ...

    async def write(self, stmts: Sequence[Stmt]) -> list[Result]:
        """Run ``stmts`` in one transaction; all or nothing."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
