"""``InMemoryDeliveries`` and ``ScriptedSender``: the delivery ports in memory."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from kassa.service.ports.delivery import (
    Delivery,
    DeliveryStatus,
    DeliveryView,
    QueueStats,
    SendResult,
)
from kassa.testing.memory_uow import OutboxRecord

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from kassa.service.ports.delivery import AttemptRecord, DeliveryOutcome
    from kassa.testing.memory_store import InMemoryStore
    from kassa.testing.memory_uow import MemoryState


@dataclass(slots=True)
class _DeliveryRow:
    """Delivery state of one fake outbox row."""

    record: OutboxRecord
    status: DeliveryStatus
    next_attempt_at: datetime
    attempts: int = 0
    give_up_at: datetime | None = None
    lease_owner: str | None = None
    finished_at: datetime | None = None
    last_error: str | None = None
    replay_of: int | None = None
    log: list[AttemptRecord] = field(default_factory=list)

    def view(self) -> DeliveryView:
        """As ``kassa webhooks list`` shows it."""
        message = self.record.message
        return DeliveryView(
            id=self.record.id,
            project_id=message.project_id,
            session_id=message.session_id,
            event_type=message.event_type,
            status=self.status,
            attempts=self.attempts,
            created_at=message.created_at,
            next_attempt_at=self.next_attempt_at,
            give_up_at=self.give_up_at,
            finished_at=self.finished_at,
            last_error=self.last_error,
            replay_of=self.replay_of,
            attempt_log=tuple(self.log),
        )


class InMemoryDeliveries:
    """``DeliveryStore`` over an ``InMemoryStore``'s outbox (same contract as the SQL one)."""

    def __init__(self, store: InMemoryStore) -> None:
        """Deliver the rows that units of work add to ``store``."""
        self.store = store
        self.rows: dict[int, _DeliveryRow] = {}

    def _sync(self) -> list[_DeliveryRow]:
        for record in self.store.state.outbox:
            if record.id not in self.rows:
                status = DeliveryStatus(record.status)
                self.rows[record.id] = _DeliveryRow(record, status, record.message.created_at)
        return [self.rows[i] for i in sorted(self.rows)]

    def _due(self, now: datetime) -> list[_DeliveryRow]:
        rows = self._sync()
        blocked: set[str] = set()
        due = []
        for row in rows:
            if row.status is not DeliveryStatus.PENDING:
                continue
            session = row.record.message.session_id
            if session not in blocked and row.next_attempt_at <= now:
                due.append(row)
            blocked.add(session)
        return sorted(due, key=lambda r: (r.next_attempt_at, r.record.id))

    async def has_due(self, now: datetime) -> bool:
        """True if some row is due."""
        return bool(self._due(now))

    async def claim(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        give_up_at: datetime,
        limit: int,
    ) -> list[Delivery]:
        """Lease up to ``limit`` due rows."""
        out = []
        for row in self._due(now)[:limit]:
            row.lease_owner = owner
            row.next_attempt_at = lease_until
            row.give_up_at = row.give_up_at or give_up_at
            message = row.record.message
            project = self.store.state.projects.get(message.project_id)
            out.append(
                Delivery(
                    id=row.record.id,
                    project_id=message.project_id,
                    session_id=message.session_id,
                    event_type=message.event_type,
                    body=message.body,
                    signature=message.signature,
                    attempts=row.attempts,
                    created_at=message.created_at,
                    give_up_at=row.give_up_at,
                    webhook_url=None if project is None else project.webhook_url,
                ),
            )
        return sorted(out, key=lambda d: d.id)

    async def record(self, owner: str, outcomes: Sequence[DeliveryOutcome]) -> int:
        """Log the attempts; apply the outcomes whose lease ``owner`` still holds."""
        updated = 0
        for outcome in outcomes:
            row = self.rows[outcome.delivery_id]
            if outcome.attempt is not None:
                row.log.append(outcome.attempt)
            if row.lease_owner != owner or row.status is not DeliveryStatus.PENDING:
                continue
            updated += 1
            row.status = outcome.status
            row.attempts += 0 if outcome.attempt is None else 1
            row.next_attempt_at = outcome.next_attempt_at or row.next_attempt_at
            row.finished_at = (
                None if outcome.status is DeliveryStatus.PENDING else outcome.decided_at
            )
            row.last_error = outcome.error
            row.lease_owner = None
        return updated

    async def release(self, owner: str, ids: Sequence[int], now: datetime) -> None:
        """Give leased rows back, due at ``now``."""
        for i in ids:
            row = self.rows.get(i)
            if row and row.lease_owner == owner and row.status is DeliveryStatus.PENDING:
                row.lease_owner = None
                row.next_attempt_at = now

    async def list_deliveries(
        self,
        *,
        project_id: str | None = None,
        failed_only: bool = False,
        limit: int = 50,
    ) -> list[DeliveryView]:
        """Newest first."""
        rows = [
            r
            for r in reversed(self._sync())
            if (project_id is None or r.record.message.project_id == project_id)
            and (not failed_only or r.status is DeliveryStatus.FAILED)
        ]
        return [r.view() for r in rows[:limit]]

    async def get_delivery(self, delivery_id: int) -> DeliveryView | None:
        """One delivery, or None."""
        self._sync()
        row = self.rows.get(delivery_id)
        return None if row is None else row.view()

    async def replay(self, delivery_id: int, now: datetime) -> DeliveryView | None:
        """A fresh row with the same bytes (skipped without a webhook URL)."""
        self._sync()
        original = self.rows.get(delivery_id)
        if original is None:
            return None
        project = self.store.state.projects.get(original.record.message.project_id)
        status = "pending" if project is not None and project.webhook_url else "skipped"
        message = replace(original.record.message, created_at=now)

        def write(state: MemoryState) -> None:
            state.outbox.append(OutboxRecord(len(state.outbox) + 1, message, status))

        self.store.apply([write])
        self._sync()
        copy = self.rows[len(self.store.state.outbox)]
        copy.replay_of = delivery_id
        return copy.view()

    async def queue_stats(self) -> QueueStats:
        """Pending rows and the oldest creation time."""
        pending = [r for r in self._sync() if r.status is DeliveryStatus.PENDING]
        oldest = min((r.record.message.created_at for r in pending), default=None)
        return QueueStats(len(pending), oldest)


class ScriptedSender:
    """``WebhookSender`` that answers from a script (default: 200) and remembers every call."""

    def __init__(self, *answers: SendResult | int) -> None:
        """Answer with ``answers`` in turn (an int is an HTTP status), then 200."""
        self.answers = list(answers)
        self.sent: list[tuple[str, bytes, str]] = []
        self.closed = False

    async def send(self, url: str, body: bytes, signature: str) -> SendResult:
        """Record the call and give the next scripted answer."""
        self.sent.append((url, body, signature))
        answer = self.answers.pop(0) if self.answers else 200
        return SendResult(answer, 1.0) if isinstance(answer, int) else answer

    async def close(self) -> None:
        """Remember that it was closed."""
        self.closed = True
