"""The bare-minimum baseline starts whichever of its processes creates its table first."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from kassa.bench.bare import create_table

pytestmark = pytest.mark.postgres

_CALLERS = 8
_TRIES = 40


async def test_processes_creating_the_table_at_once_all_start(pg_url: str) -> None:
    """Eight connections run the CREATE together until one loses the race; none fails."""
    conns = [await asyncpg.connect(pg_url) for _ in range(_CALLERS)]
    try:
        raced = 0
        for _ in range(_TRIES):
            await conns[0].execute("DROP TABLE IF EXISTS bare_sessions")
            lost = await asyncio.gather(*(create_table(c) for c in conns))
            exists = await conns[0].fetchval("SELECT to_regclass('bare_sessions') IS NOT NULL")
            assert exists
            raced += sum(lost)
            if raced:
                break
        assert raced, f"no call lost the race in {_TRIES} tries: the race was not exercised"
    finally:
        for conn in conns:
            await conn.close()
