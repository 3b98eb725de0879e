"""The repository contract on ``kassa.testing.InMemoryStore``, so the fake cannot drift."""

from __future__ import annotations

import pytest

from idempotency_contract import IdempotencyContract
from kassa.testing import InMemoryStore
from store_contract import OutboxRow, StoreContract


class TestInMemoryStoreContract(StoreContract, IdempotencyContract):
    """The in-memory fake keeps the same contract as the SQL stores."""

    @pytest.fixture
    def store(self) -> InMemoryStore:
        """A fresh fake database."""
        return InMemoryStore()

    async def outbox_rows(self, store: InMemoryStore, project_id: str) -> list[OutboxRow]:
        """The fake's outbox list."""
        return [
            (
                r.message.event_type,
                r.message.session_id,
                r.message.body,
                r.message.signature,
                r.status,
            )
            for r in store.outbox(project_id)
        ]
