"""Fill the sessions table in bulk (COPY on PostgreSQL, executemany on SQLite), not via the API.

Used to measure the cost per request at 10,000 and at 1,000,000 stored sessions.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from kassa.adapters.db import session_rows
from kassa.bootstrap import sqlite_path
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.money import Money
from kassa.domain.session import ApiVersion, PaymentSession, SessionDraft, SessionStatus

if TYPE_CHECKING:
    from collections.abc import Iterator

COLUMNS = [c.strip() for c in session_rows.SESSION_COLUMNS.split(",")]
BATCH = 20_000


def _rows(project_id: str, count: int) -> Iterator[tuple[Any, ...]]:
    now = datetime.now(UTC)
    draft = SessionDraft(amount=Money(1000, "usd"), metadata="seed", has_metadata=True)
    for _ in range(count):
        session = PaymentSession(
            id=new_id(IdPrefix.SESSION),
            project_id=project_id,
            api_version=ApiVersion.V1,
            status=SessionStatus.CREATED,
            created_at=now,
            updated_at=now,
            draft=draft,
        )
        yield session_rows.session_params(session)


async def seed_sessions(database_url: str, project_id: str, count: int) -> list[str]:
    """Insert ``count`` created sessions of the project; up to 50,000 of their ids."""
    sample: list[str] = []
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(sqlite_path(database_url))
        try:
            marks = ", ".join("?" * len(COLUMNS))
            batch: list[tuple[Any, ...]] = []
            for row in _rows(project_id, count):
                batch.append(row)
                if len(sample) < 50_000:  # noqa: PLR2004
                    sample.append(row[0])
                if len(batch) == BATCH:
                    conn.executemany(
                        f"INSERT INTO sessions ({', '.join(COLUMNS)}) VALUES ({marks})", batch
                    )
                    conn.commit()
                    batch.clear()
            if batch:
                conn.executemany(
                    f"INSERT INTO sessions ({', '.join(COLUMNS)}) VALUES ({marks})", batch
                )
            conn.commit()
        finally:
            conn.close()
        return sample
    pg = await asyncpg.connect(database_url)
    try:
        rows = list(_rows(project_id, count))
        sample = [r[0] for r in rows[:50_000]]
        for i in range(0, len(rows), BATCH):
            await pg.copy_records_to_table("sessions", records=rows[i : i + BATCH], columns=COLUMNS)
        await pg.execute("ANALYZE sessions")
    finally:
        await pg.close()
    return sample
