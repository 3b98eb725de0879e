"""The outbox as a delivery queue (``service.delivery_ports.DeliveryStore``) on either driver.

Claims are one statement. On PostgreSQL the due rows are picked with ``FOR UPDATE OF o SKIP
LOCKED`` inside the claiming ``UPDATE``, so concurrent workers skip each other's rows instead
of waiting; on SQLite the ``UPDATE … RETURNING`` runs on the single writer, which serialises
claims anyway. A claim moves ``next_attempt_at`` to the end of the lease: a row whose worker
died becomes due again by itself, with no separate lease check in the due query.

Per-session order relies on outbox ids following commit order within a session, which holds
because every state change of a session is a version-checked update of its row: two writers
of one session cannot both commit, so a later webhook is always inserted after the earlier
one committed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kassa.adapters.db import rows
from kassa.adapters.db.driver import Driver, Row, Stmt
from kassa.service.ports.delivery import (
    AttemptRecord,
    Delivery,
    DeliveryOutcome,
    DeliveryStatus,
    DeliveryView,
    QueueStats,
    SendResult,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

# Due: pending, its time has come, and the first pending row of its session. Both lookups run
# on partial indexes over pending rows (ix_outbox_due, ix_outbox_session): the candidates are
# read in due order and each costs one index probe, so a claim stops after ``limit`` rows.
_DUE = (
    "FROM outbox o WHERE o.status = 'pending' AND o.next_attempt_at <= ? "
    "AND o.id = (SELECT MIN(e.id) FROM outbox e WHERE e.session_id = o.session_id "
    "AND e.status = 'pending')"
)
_LEASE = (
    "SET lease_owner = ?, lease_until = ?, next_attempt_at = ?, "
    "give_up_at = COALESCE(give_up_at, ?)"
)
_CLAIMED = (
    "id, project_id, session_id, event_type, body, signature, attempts, created_at, give_up_at"
)
_CLAIM_PG = (
    f"WITH due AS (SELECT o.id {_DUE} ORDER BY o.next_attempt_at, o.id LIMIT ? "
    f"FOR UPDATE OF o SKIP LOCKED) UPDATE outbox {_LEASE} FROM due WHERE outbox.id = due.id "
    "RETURNING " + ", ".join(f"outbox.{c}" for c in _CLAIMED.split(", "))
)
# PostgreSQL's planner misjudges how many candidates pass the session filter (it guesses an
# equality's selectivity) and may then sort every pending row before the LIMIT; with sorting
# disabled for the claim it must walk ix_outbox_due in order, whatever the statistics say.
_NO_SORT = "SET LOCAL enable_sort = off"
_CLAIM_SQLITE = (
    f"UPDATE outbox {_LEASE} WHERE id IN (SELECT o.id {_DUE} "
    f"ORDER BY o.next_attempt_at, o.id LIMIT ?) RETURNING {_CLAIMED}"
)
_VIEW = (
    "SELECT id, project_id, session_id, event_type, status, attempts, created_at, "
    "next_attempt_at, give_up_at, finished_at, last_error, replay_of FROM outbox "
)
_ATTEMPT_INSERT = (
    "INSERT INTO delivery_attempts (outbox_id, attempted_at, http_status, latency_ms, "
    "response_excerpt, error, worker) VALUES "
)
_ATTEMPT_ROW = "(?, ?, ?, ?, ?, ?, ?)"
# One UPDATE applies a whole group of outcomes: (id, status, +attempts, next, finished, error).
_OUTCOME_ROW = (
    "(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS BIGINT), "
    "CAST(? AS BIGINT), CAST(? AS TEXT))"
)
_OUTCOME_UPDATE = (
    "UPDATE outbox SET status = v.column2, attempts = attempts + v.column3, "
    "next_attempt_at = COALESCE(v.column4, next_attempt_at), finished_at = v.column5, "
    "last_error = v.column6, lease_owner = NULL, lease_until = NULL "
    "FROM (VALUES {rows}) AS v "
    "WHERE outbox.id = v.column1 AND outbox.lease_owner = ? AND outbox.status = 'pending'"
)
_CHUNK = 256  # outcomes per statement: bounded parameter lists on both databases
_REPLAY = (
    "INSERT INTO outbox (project_id, session_id, event_type, body, signature, status, "
    "attempts, created_at, next_attempt_at, replay_of) "
    "SELECT o.project_id, o.session_id, o.event_type, o.body, o.signature, "
    "CASE WHEN p.webhook_url IS NULL THEN 'skipped' ELSE 'pending' END, 0, "
    "CAST(? AS BIGINT), CAST(? AS BIGINT), o.id "
    "FROM outbox o LEFT JOIN projects p ON p.id = o.project_id WHERE o.id = ? RETURNING id"
)


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _delivery(row: Row, urls: dict[str, str | None]) -> Delivery:
    return Delivery(
        id=int(row[0]),
        project_id=row[1],
        session_id=row[2],
        event_type=row[3],
        body=bytes(row[4]),
        signature=row[5],
        attempts=int(row[6]),
        created_at=rows.from_us(row[7]),
        give_up_at=rows.from_us(row[8]),
        webhook_url=urls.get(row[1]),
    )


def _attempt(row: Row) -> AttemptRecord:
    return AttemptRecord(
        attempted_at=rows.from_us(row[1]),
        worker=row[6] or "",
        result=SendResult(
            http_status=row[2],
            latency_ms=float(row[3]),
            excerpt=row[4],
            error=row[5],
        ),
    )


def _view(row: Row, attempts: tuple[AttemptRecord, ...]) -> DeliveryView:
    return DeliveryView(
        id=int(row[0]),
        project_id=row[1],
        session_id=row[2],
        event_type=row[3],
        status=DeliveryStatus(row[4]),
        attempts=int(row[5]),
        created_at=rows.from_us(row[6]),
        next_attempt_at=rows.from_us(row[7]),
        give_up_at=rows.opt_from_us(row[8]),
        finished_at=rows.opt_from_us(row[9]),
        last_error=row[10],
        replay_of=None if row[11] is None else int(row[11]),
        attempt_log=attempts,
    )


def record_statements(owner: str, outcomes: Sequence[DeliveryOutcome]) -> list[Stmt]:
    """Multi-row statements for a group: attempt inserts, then one update per chunk.

    The update applies an outcome only while ``owner`` still holds the row's lease.
    """
    stmts = []
    tried = [(o.delivery_id, o.attempt) for o in outcomes if o.attempt is not None]
    for start in range(0, len(tried), _CHUNK):
        chunk = tried[start : start + _CHUNK]
        params: list[Any] = []
        for delivery_id, attempt in chunk:
            result = attempt.result
            params += [
                delivery_id,
                rows.to_us(attempt.attempted_at),
                result.http_status,
                result.latency_ms,
                result.excerpt,
                result.error,
                attempt.worker,
            ]
        stmts.append(Stmt(_ATTEMPT_INSERT + ", ".join([_ATTEMPT_ROW] * len(chunk)), params))
    for start in range(0, len(outcomes), _CHUNK):
        group = list(outcomes[start : start + _CHUNK])
        params = []
        for outcome in group:
            final = outcome.status is not DeliveryStatus.PENDING
            params += [
                outcome.delivery_id,
                outcome.status.value,
                0 if outcome.attempt is None else 1,
                rows.opt_to_us(outcome.next_attempt_at),
                rows.to_us(outcome.decided_at) if final else None,
                outcome.error,
            ]
        sql = _OUTCOME_UPDATE.format(rows=", ".join([_OUTCOME_ROW] * len(group)))
        stmts.append(Stmt(sql, [*params, owner]))
    return stmts


class SqlDeliveries:
    """``DeliveryStore`` over the outbox and delivery_attempts tables."""

    def __init__(self, driver: Driver) -> None:
        """Use ``driver`` (the store's)."""
        self.driver = driver

    async def has_due(self, now: datetime) -> bool:
        """A cheap read: is any pending row's time up?"""
        found = await self.driver.fetch(
            "SELECT 1 FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? LIMIT 1",
            (rows.to_us(now),),
        )
        return bool(found)  # rows blocked behind their session count: the claim sorts it out

    async def claim(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        give_up_at: datetime,
        limit: int,
    ) -> list[Delivery]:
        """Lease up to ``limit`` due rows to ``owner``; oldest due first."""
        lease = rows.to_us(lease_until)
        lease_params = (owner, lease, lease, rows.to_us(give_up_at))
        due_params = (rows.to_us(now), limit)
        if self.driver.dialect == "postgresql":
            stmts = [Stmt(_NO_SORT), Stmt(_CLAIM_PG, due_params + lease_params, returning=True)]
        else:
            stmts = [Stmt(_CLAIM_SQLITE, lease_params + due_params, returning=True)]
        result = (await self.driver.write(stmts))[-1]
        if not result.rows:
            return []
        projects = sorted({row[1] for row in result.rows})
        found = await self.driver.fetch(
            f"SELECT id, webhook_url FROM projects WHERE id IN ({_marks(len(projects))})",
            projects,
        )
        urls: dict[str, str | None] = {row[0]: row[1] for row in found}
        return sorted((_delivery(row, urls) for row in result.rows), key=lambda d: d.id)

    async def record(self, owner: str, outcomes: Sequence[DeliveryOutcome]) -> int:
        """Insert the attempts and apply the outcomes in one transaction."""
        stmts = record_statements(owner, outcomes)
        if not stmts:
            return 0
        results = await self.driver.write(stmts)
        return sum(
            result.rowcount
            for result, stmt in zip(results, stmts, strict=True)
            if stmt.sql.startswith("UPDATE")
        )

    async def release(self, owner: str, ids: Sequence[int], now: datetime) -> None:
        """Hand leased rows back, due at ``now``."""
        if not ids:
            return
        await self.driver.write(
            [
                Stmt(
                    "UPDATE outbox SET next_attempt_at = ?, lease_owner = NULL, "
                    "lease_until = NULL WHERE lease_owner = ? AND status = 'pending' "
                    f"AND id IN ({_marks(len(ids))})",
                    (rows.to_us(now), owner, *ids),
                ),
            ],
        )

    async def list_deliveries(
        self,
        *,
        project_id: str | None = None,
        failed_only: bool = False,
        limit: int = 50,
    ) -> list[DeliveryView]:
        """Newest first, with their attempts."""
        where: list[str] = []
        params: list[Any] = []
        if project_id is not None:
            where.append("project_id = ?")
            params.append(project_id)
        if failed_only:
            where.append("status = 'failed'")
        sql = _VIEW + (f"WHERE {' AND '.join(where)} " if where else "")
        found = await self.driver.fetch(sql + "ORDER BY id DESC LIMIT ?", (*params, limit))
        return await self._with_attempts(found)

    async def get_delivery(self, delivery_id: int) -> DeliveryView | None:
        """One delivery with its attempts."""
        found = await self.driver.fetch(_VIEW + "WHERE id = ?", (delivery_id,))
        views = await self._with_attempts(found)
        return views[0] if views else None

    async def of_session(self, session_id: str) -> list[DeliveryView]:
        """Every delivery of one session, oldest first, with attempts (the dashboard's page)."""
        found = await self.driver.fetch(_VIEW + "WHERE session_id = ? ORDER BY id", (session_id,))
        return await self._with_attempts(found)

    async def replay(self, delivery_id: int, now: datetime) -> DeliveryView | None:
        """Copy the row's bytes into a fresh delivery (skipped without a webhook URL)."""
        at = rows.to_us(now)
        [result] = await self.driver.write(
            [Stmt(_REPLAY, (at, at, delivery_id), returning=True)],
        )
        if not result.rows:
            return None
        return await self.get_delivery(int(result.rows[0][0]))

    async def queue_stats(self) -> QueueStats:
        """Pending rows and the oldest creation time among them."""
        found = await self.driver.fetch(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE status = 'pending'",
        )
        depth, oldest = found[0]
        return QueueStats(int(depth), rows.opt_from_us(oldest))

    async def _with_attempts(self, found: list[Row]) -> list[DeliveryView]:
        if not found:
            return []
        ids = [int(row[0]) for row in found]
        attempts: dict[int, list[AttemptRecord]] = {}
        for row in await self.driver.fetch(
            "SELECT outbox_id, attempted_at, http_status, latency_ms, response_excerpt, error, "
            f"worker FROM delivery_attempts WHERE outbox_id IN ({_marks(len(ids))}) ORDER BY id",
            ids,
        ):
            attempts.setdefault(int(row[0]), []).append(_attempt(row))
        return [_view(row, tuple(attempts.get(int(row[0]), ()))) for row in found]
