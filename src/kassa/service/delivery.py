"""Webhook delivery: claim due outbox rows under a lease, send each, record every outcome.

One ``DeliveryPump`` per worker process:

1. ``pump()`` leases up to ``batch`` due rows, never more than the free slots: at most
   ``concurrency`` sends at once, and at most ``BACKLOG`` times that many rows claimed but not
   yet recorded. A row is due when it is pending, its
   ``next_attempt_at`` has passed and no earlier pending row of its session exists, so one
   session's webhooks go out one at a time, in order, while other sessions proceed.
2. Each row is sent in its own task (``attempt``); the retry schedule
   (``domain/backoff.py``) turns the answer into an outcome: ``delivered`` on 2xx, else
   ``pending`` with the next attempt time, or ``failed`` once the give-up time has passed.
3. A recorder task writes finished outcomes in groups, each group one transaction (the
   attempt rows and the new statuses together) while the next sends go on. A row stays
   leased until its outcome is written.

A worker that dies mid-delivery leaves its rows leased; when the lease ends they are due again
and another worker sends them. The receiver may then see a webhook twice (at-least-once):
kassa never resends a recorded 2xx, but a crash between the answer and the record cannot be
told from a lost request.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from kassa.domain.backoff import RetrySchedule
from kassa.service.ports.delivery import (
    AttemptRecord,
    DeliveryOutcome,
    DeliveryStatus,
    SendResult,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from kassa.service.ports import Clock
    from kassa.service.ports.delivery import (
        Delivery,
        DeliveryStore,
        DeliveryView,
        WebhookSender,
    )

NO_URL = "project has no webhook URL"
BACKLOG = 4  # rows claimed but not yet recorded, in multiples of ``concurrency``
_RECORD_GROUP = 512  # outcomes written per transaction at most
_RECORD_RETRY = (0.1, 0.5, 1.0, 2.0, 5.0)  # seconds between tries when the database fails


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How a worker delivers: the retry schedule, lease length, claim size and parallelism."""

    schedule: RetrySchedule = field(default_factory=RetrySchedule)
    lease: timedelta = timedelta(seconds=60)
    batch: int = 50
    concurrency: int = 64


class DeliveryEvents(Protocol):
    """What a pump reports (the worker turns it into metrics and log lines)."""

    def outcome(self, delivery: Delivery, outcome: DeliveryOutcome) -> None:
        """An outcome was recorded."""
        ...

    def trouble(self, what: str, exc: BaseException) -> None:
        """Something failed and will be retried (a database write, a claim)."""
        ...


class _Quiet:
    def outcome(self, delivery: Delivery, outcome: DeliveryOutcome) -> None:
        pass

    def trouble(self, what: str, exc: BaseException) -> None:
        pass


def decide(
    delivery: Delivery,
    attempt: AttemptRecord,
    now: datetime,
    schedule: RetrySchedule,
    rand: float,
) -> DeliveryOutcome:
    """The outcome of ``attempt``: delivered on 2xx, else a retry or, past the deadline, failed."""
    result = attempt.result
    if result.delivered:
        return DeliveryOutcome(delivery.id, DeliveryStatus.DELIVERED, now, attempt)
    retry_at = schedule.next_attempt(delivery.attempts + 1, now, delivery.give_up_at, rand)
    if retry_at is None:
        return DeliveryOutcome(
            delivery.id,
            DeliveryStatus.FAILED,
            now,
            attempt,
            error=result.describe(),
        )
    return DeliveryOutcome(
        delivery.id,
        DeliveryStatus.PENDING,
        now,
        attempt,
        next_attempt_at=retry_at,
        error=result.describe(),
    )


async def attempt(
    sender: WebhookSender,
    clock: Clock,
    delivery: Delivery,
    *,
    schedule: RetrySchedule,
    worker: str,
    rand: float,
) -> DeliveryOutcome:
    """Send ``delivery`` once (or skip it if the project has no URL now) and decide."""
    started = clock.now()
    if delivery.webhook_url is None:
        return DeliveryOutcome(delivery.id, DeliveryStatus.SKIPPED, started, error=NO_URL)
    result = await sender.send(delivery.webhook_url, delivery.body, delivery.signature)
    record = AttemptRecord(attempted_at=started, worker=worker, result=result)
    return decide(delivery, record, clock.now(), schedule, rand)


async def replay(store: DeliveryStore, clock: Clock, delivery_id: int) -> DeliveryView | None:
    """Queue a fresh delivery of the same signed bytes; None if there is no such delivery."""
    return await store.replay(delivery_id, clock.now())


class DeliveryPump:
    """Claims, sends concurrently and records in groups; see the module docstring."""

    def __init__(
        self,
        store: DeliveryStore,
        sender: WebhookSender,
        clock: Clock,
        policy: DeliveryPolicy,
        owner: str,
        *,
        events: DeliveryEvents | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        """Deliver as ``owner`` (the lease owner name, unique per worker process)."""
        self.store = store
        self.sender = sender
        self.clock = clock
        self.policy = policy
        self.owner = owner
        self.events: DeliveryEvents = events or _Quiet()
        self._rand = rand
        self._held: dict[int, Delivery] = {}  # claimed, not yet recorded
        self._sending: set[asyncio.Task[None]] = set()  # sends under way
        self._done: asyncio.Queue[tuple[Delivery, DeliveryOutcome]] = asyncio.Queue()
        self._recorder: asyncio.Task[None] | None = None
        self._slot_freed = asyncio.Event()
        self._hot = True  # the last claim was full: skip the "anything due?" probe

    @property
    def in_flight(self) -> int:
        """Rows claimed and not yet recorded."""
        return len(self._held)

    @property
    def free(self) -> int:
        """How many more rows this pump may claim now."""
        sends = self.policy.concurrency - len(self._sending)
        backlog = self.policy.concurrency * BACKLOG - len(self._held)
        return max(0, min(sends, backlog))

    async def pump(self) -> int:
        """Claim what the free slots allow and start sending; return how many were claimed."""
        want = min(self.policy.batch, self.free)
        if want == 0:
            return 0
        if self._recorder is None:
            self._recorder = asyncio.create_task(self._record_loop(), name="kassa-recorder")
        now = self.clock.now()
        if not self._hot and not await self.store.has_due(now):
            return 0
        claimed = await self.store.claim(
            self.owner,
            now,
            now + self.policy.lease,
            self.policy.schedule.give_up_at(now),
            want,
        )
        self._hot = len(claimed) == want
        for delivery in claimed:
            self._held[delivery.id] = delivery
            task = asyncio.create_task(self._send(delivery))
            self._sending.add(task)
            task.add_done_callback(self._sent)
        return len(claimed)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._slot_freed.set()

    async def wait_for_slot(self, timeout: float) -> None:  # noqa: ASYNC109 - a poll interval
        """Return when a slot is freed or after ``timeout`` seconds."""
        self._slot_freed.clear()
        if self.free:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._slot_freed.wait(), timeout)

    async def stop(self, grace: float) -> None:
        """Let sends finish for up to ``grace`` seconds, record them, give back the rest."""
        if self._sending:
            await asyncio.wait(set(self._sending), timeout=grace)
        for task in list(self._sending):
            task.cancel()
        if self._sending:
            await asyncio.wait(set(self._sending))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._done.join(), grace)
        if self._recorder is not None:
            self._recorder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recorder
            self._recorder = None
        left = list(self._held)
        if left:
            with contextlib.suppress(Exception):  # the leases end by themselves anyway
                await self.store.release(self.owner, left, self.clock.now())
            self._held.clear()

    async def _send(self, delivery: Delivery) -> None:
        try:
            outcome = await attempt(
                self.sender,
                self.clock,
                delivery,
                schedule=self.policy.schedule,
                worker=self.owner,
                rand=self._rand(),
            )
        except Exception as exc:  # noqa: BLE001 - a bug in one send must not stop the others
            now = self.clock.now()
            failed = SendResult(None, 0.0, error=f"internal error: {type(exc).__name__}")
            record = AttemptRecord(attempted_at=now, worker=self.owner, result=failed)
            outcome = decide(delivery, record, now, self.policy.schedule, self._rand())
        self._done.put_nowait((delivery, outcome))

    async def _record_loop(self) -> None:
        while True:
            group = [await self._done.get()]
            while len(group) < _RECORD_GROUP and not self._done.empty():
                group.append(self._done.get_nowait())
            written = await self._write([outcome for _delivery, outcome in group])
            for delivery, outcome in group:
                self._held.pop(delivery.id, None)
                if written:
                    self.events.outcome(delivery, outcome)
                self._done.task_done()
            self._slot_freed.set()

    async def _write(self, outcomes: list[DeliveryOutcome]) -> bool:
        """Record ``outcomes``, retrying a failing database; False if it never worked.

        Unrecorded rows keep their lease and are sent again once it ends (at-least-once).
        """
        for pause in (*_RECORD_RETRY, None):
            try:
                await self.store.record(self.owner, outcomes)
            except Exception as exc:  # noqa: BLE001 - reported, then retried
                self.events.trouble("record", exc)
                if pause is None:
                    return False
                await asyncio.sleep(pause)
            else:
                return True
        return False  # pragma: no cover - the loop always returns
