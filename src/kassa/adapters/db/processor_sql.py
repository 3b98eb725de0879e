"""The sandbox processor's journal in the ``processor_calls`` table (shared by all processes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from kassa.adapters.db import rows
from kassa.adapters.db.driver import Stmt
from kassa.adapters.processor.sandbox import JournalEntry

if TYPE_CHECKING:
    from kassa.adapters.db.driver import Driver, Row

_COLUMNS = "key, kind, operation_id, amount, currency, answer, created_at"


def _entry(row: Row) -> JournalEntry:
    return JournalEntry(
        key=row[0],
        kind=row[1],
        operation_id=row[2],
        amount=int(row[3]),
        currency=row[4],
        answer=orjson.loads(row[5]),
        created_at=rows.from_us(row[6]),
    )


class SqlJournal:
    """``Journal`` over kassa's database: first writer of a key wins, in one statement."""

    def __init__(self, driver: Driver) -> None:
        """Use an open driver."""
        self._driver = driver

    async def remember(self, entry: JournalEntry) -> JournalEntry:
        """Insert unless the key exists; either way return the stored row."""
        [result] = await self._driver.write(
            [
                Stmt(
                    f"INSERT INTO processor_calls ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET key = excluded.key "
                    f"RETURNING {_COLUMNS}",
                    (
                        entry.key,
                        entry.kind,
                        entry.operation_id,
                        entry.amount,
                        entry.currency,
                        rows.dumps(entry.answer),
                        rows.to_us(entry.created_at),
                    ),
                    returning=True,
                ),
            ],
        )
        return _entry(result.rows[0])

    async def entries(self) -> list[JournalEntry]:
        """Every call, oldest first."""
        found = await self._driver.fetch(
            f"SELECT {_COLUMNS} FROM processor_calls ORDER BY created_at, key"
        )
        return [_entry(r) for r in found]
