"""Ports of webhook delivery: the outbox as a delivery queue, and the HTTP sender.

Kept beside ``service/ports.py`` (which holds the request-side ports) so that neither file
outgrows a screenful of concepts. Fakes: ``kassa.testing.InMemoryDeliveries`` and
``kassa.testing.ScriptedSender``; real adapters: ``adapters/db/deliveries.py`` and
``adapters/webhook_sender.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

SUCCESS_MIN, SUCCESS_MAX = 200, 299  # only a 2xx answer counts as delivered
EXCERPT_BYTES = 1024  # how much of a receiver's answer is kept per attempt


class DeliveryStatus(StrEnum):
    """Where an outbox row is; every status but ``pending`` is final."""

    PENDING = "pending"  # waiting for its (next) attempt, or being attempted under a lease
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # no 2xx before the give-up deadline; replay from the CLI
    SKIPPED = "skipped"  # the project had no webhook URL; never sent


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed outbox row on its way out: the exact bytes and where they go."""

    id: int
    project_id: str
    session_id: str
    event_type: str
    body: bytes
    signature: str
    attempts: int  # attempts recorded before this one
    created_at: datetime
    give_up_at: datetime  # set when the row is first claimed: the give-up clock's end
    webhook_url: str | None  # the project's URL now; None means skipped


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one POST gave: an HTTP status, or an error (timeout, refused, SSRF guard)."""

    http_status: int | None
    latency_ms: float
    excerpt: str | None = None  # first ``EXCERPT_BYTES`` of the answer, decoded leniently
    error: str | None = None

    @property
    def delivered(self) -> bool:
        """True for a 2xx answer: the only outcome that counts."""
        return (
            self.error is None
            and self.http_status is not None
            and SUCCESS_MIN <= self.http_status <= SUCCESS_MAX
        )

    def describe(self) -> str:
        """A short reason for ``last_error``: the error, or ``HTTP <status>``."""
        return self.error or f"HTTP {self.http_status}"


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One attempt as recorded: when, by which worker, and what it gave."""

    attempted_at: datetime
    worker: str
    result: SendResult


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What to write after an attempt: the attempt row and the delivery's new status."""

    delivery_id: int
    status: DeliveryStatus
    decided_at: datetime
    attempt: AttemptRecord | None = None  # None when skipped (nothing was sent)
    next_attempt_at: datetime | None = None  # for ``pending``: the retry time
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """A delivery with its attempts, as ``kassa webhooks list`` shows it."""

    id: int
    project_id: str
    session_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    give_up_at: datetime | None
    finished_at: datetime | None
    last_error: str | None
    replay_of: int | None
    attempt_log: tuple[AttemptRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class QueueStats:
    """How much waits in the outbox: pending rows and the creation time of the oldest."""

    depth: int
    oldest_created_at: datetime | None


class DeliveryStore(Protocol):
    """The outbox as a queue: claims under a lease, outcomes, listing and replay."""

    async def has_due(self, now: datetime) -> bool:
        """True if some row is due (cheap read; lets idle workers skip a write)."""
        ...

    async def claim(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        give_up_at: datetime,
        limit: int,
    ) -> list[Delivery]:
        """Lease up to ``limit`` due rows to ``owner`` until ``lease_until``.

        A row is due when it is pending, its ``next_attempt_at`` has passed (an expired lease
        counts) and no earlier pending row of its session exists. Two claims never return the
        same row while its lease holds. Rows claimed for the first time get ``give_up_at``.
        """
        ...

    async def record(self, owner: str, outcomes: Sequence[DeliveryOutcome]) -> int:
        """Write the attempts and new statuses in one transaction; return rows updated.

        A row whose lease ``owner`` lost (it expired and another worker took it) keeps its
        attempt record but not this status.
        """
        ...

    async def release(self, owner: str, ids: Sequence[int], now: datetime) -> None:
        """Give leased rows back, due at ``now`` (a worker stopping before sending)."""
        ...

    async def list_deliveries(
        self,
        *,
        project_id: str | None = None,
        failed_only: bool = False,
        limit: int = 50,
    ) -> list[DeliveryView]:
        """Newest first, each with its attempts."""
        ...

    async def get_delivery(self, delivery_id: int) -> DeliveryView | None:
        """One delivery with its attempts, or None."""
        ...

    async def replay(self, delivery_id: int, now: datetime) -> DeliveryView | None:
        """Queue a fresh delivery of the same bytes (``replay_of`` = the original), or None.

        The copy is ``skipped`` if the project has no webhook URL now.
        """
        ...

    async def queue_stats(self) -> QueueStats:
        """Pending rows and the oldest one's creation time."""
        ...


class WebhookSender(Protocol):
    """POSTs signed bodies to webhook URLs (timeout, no redirects, SSRF guard)."""

    async def send(self, url: str, body: bytes, signature: str) -> SendResult:
        """POST ``body`` with ``X-PARTNER-SIGN: signature``; never raises for HTTP trouble."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
