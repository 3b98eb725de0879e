"""The repository contract on the real adapters: SQLite and PostgreSQL (``store`` fixture)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idempotency_contract import IdempotencyContract
from store_contract import OutboxRow, StoreContract

if TYPE_CHECKING:
    from kassa.adapters.db.store import SqlStore


class TestSqlStoreContract(StoreContract, IdempotencyContract):
    """``SqlStore`` over each driver keeps the repository contract."""

    async def outbox_rows(self, store: SqlStore, project_id: str) -> list[OutboxRow]:
        """Read the outbox table directly."""
        found = await store.driver.fetch(
            "SELECT event_type, session_id, body, signature, status FROM outbox "
            "WHERE project_id = ? ORDER BY id",
            (project_id,),
        )
        return [(r[0], r[1], bytes(r[2]), r[3], r[4]) for r in found]
