"""Concurrent claims on PostgreSQL: separate connection pools race for the same outbox rows."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from delivery_contract import add_rows, new_project, outcome
from kassa.bootstrap import open_store
from kassa.service.ports.delivery import DeliveryStatus

pytestmark = pytest.mark.postgres

CLAIMERS = 4
SESSIONS = 60
PER_SESSION = 4


async def test_racing_claimers_never_share_a_row_and_keep_session_order(pg_url: str) -> None:
    """Four pools claim, record and claim again: every row is handed out once, in order."""
    stores = [await open_store(pg_url) for _ in range(CLAIMERS)]
    try:
        pid = await new_project(stores[0])
        sessions = [f"ps_{n:03d}" for n in range(SESSIONS)]
        await add_rows(stores[0], pid, sessions * PER_SESSION)
        session_of = {n + 1: s for n, s in enumerate(sessions * PER_SESSION)}
        handed: list[int] = []
        recorded: set[int] = set()
        out_of_order: list[int] = []

        async def claimer(index: int) -> None:
            deliveries = stores[index].deliveries
            owner = f"w{index}"
            idle = 0
            while idle < 5:
                now = datetime.now(UTC)
                claimed = await deliveries.claim(
                    owner,
                    now,
                    now + timedelta(seconds=60),
                    now + timedelta(minutes=30),
                    7,
                )
                if not claimed:
                    idle += 1
                    await asyncio.sleep(0.01)
                    continue
                idle = 0
                for row in claimed:
                    handed.append(row.id)
                    earlier = [
                        i for i, s in session_of.items() if s == row.session_id and i < row.id
                    ]
                    if not set(earlier) <= recorded:
                        out_of_order.append(row.id)
                await asyncio.sleep(0.002)  # "sending"
                done = [outcome(r.id, DeliveryStatus.DELIVERED, now, worker=owner) for r in claimed]
                assert await deliveries.record(owner, done) == len(claimed)
                recorded.update(r.id for r in claimed)

        await asyncio.gather(*(claimer(i) for i in range(CLAIMERS)))
        counts = Counter(handed)
        assert sorted(counts) == list(range(1, SESSIONS * PER_SESSION + 1))
        assert set(counts.values()) == {1}
        assert out_of_order == []
        listed = await stores[0].deliveries.list_deliveries(limit=1000)
        assert {d.status for d in listed} == {DeliveryStatus.DELIVERED}
        assert len({d.attempt_log[0].worker for d in listed}) > 1
    finally:
        for store in stores:
            await store.close()
