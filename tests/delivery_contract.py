"""The delivery-queue contract: one test class every ``DeliveryStore`` must pass.

``tests/integration/test_deliveries_contract.py`` runs it on SQLite and PostgreSQL
(``SqlStore.deliveries``), ``tests/unit/test_memory_deliveries_contract.py`` on
``kassa.testing.InMemoryDeliveries``. A subclass provides the ``store`` fixture and
``deliveries(store)``. Rows are written the way state changes write them: ``add_outbox`` on a
unit of work.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.project import Project
from kassa.service.ports import OutboxMessage
from kassa.service.ports.delivery import (
    AttemptRecord,
    DeliveryOutcome,
    DeliveryStatus,
    SendResult,
)

T0 = datetime(2024, 5, 27, 2, 3, 0, 123456, tzinfo=UTC)
CREATED = T0 - timedelta(seconds=1)  # rows are written a second before the claims
LEASE = timedelta(seconds=60)
GIVE_UP = timedelta(minutes=30)
URL = "http://127.0.0.1:9/hook"


async def new_project(store: Any, webhook_url: str | None = URL) -> str:
    """Insert a project; return its id."""
    project = Project(
        id=new_id(IdPrefix.PROJECT),
        name="shop",
        public_keys=("pem",),
        created_at=T0,
        webhook_url=webhook_url,
    )
    await store.add_project(project)
    return project.id


async def add_rows(
    store: Any,
    project_id: str,
    sessions: list[str],
    *,
    deliver: bool = True,
    at: datetime = CREATED,
) -> None:
    """One outbox row per entry of ``sessions`` (a session id), each in its own transaction."""
    for n, session_id in enumerate(sessions):
        async with store.unit_of_work() as uow:
            uow.add_outbox(
                OutboxMessage(
                    project_id=project_id,
                    session_id=session_id,
                    event_type="payment_finished",
                    body=f'{{"n":{n},"s":"{session_id}"}}'.encode(),
                    signature=f"sig-{n}",
                    created_at=at + timedelta(microseconds=n),
                    deliver=deliver,
                ),
            )
            await uow.commit()


def outcome(
    delivery_id: int,
    status: DeliveryStatus,
    at: datetime,
    *,
    http_status: int | None = 200,
    next_attempt_at: datetime | None = None,
    worker: str = "w1",
) -> DeliveryOutcome:
    """An outcome with one attempt."""
    result = SendResult(http_status, 3.5, excerpt="ok", error=None if http_status else "timeout")
    return DeliveryOutcome(
        delivery_id,
        status,
        at,
        AttemptRecord(at, worker, result),
        next_attempt_at=next_attempt_at,
        error=None if status is DeliveryStatus.DELIVERED else result.describe(),
    )


async def claim(deliveries: Any, owner: str, now: datetime, limit: int = 50) -> list[Any]:
    """Claim with the standard lease and give-up window."""
    return list(await deliveries.claim(owner, now, now + LEASE, now + GIVE_UP, limit))


class DeliveryContract:
    """What every delivery store guarantees; subclasses give ``store`` and ``deliveries``."""

    def deliveries(self, store: Any) -> Any:
        """The ``DeliveryStore`` of ``store``."""
        raise NotImplementedError

    async def test_claim_returns_pending_rows_with_bytes_url_and_give_up_time(
        self,
        store: Any,
    ) -> None:
        """A claimed row carries its exact bytes, the project's URL, and the give-up time."""
        pid = await new_project(store)
        await add_rows(store, pid, ["ps_a", "ps_b"])
        deliveries = self.deliveries(store)
        assert await deliveries.has_due(T0)
        claimed = await claim(deliveries, "w1", T0)
        assert [(d.session_id, d.body, d.signature) for d in claimed] == [
            ("ps_a", b'{"n":0,"s":"ps_a"}', "sig-0"),
            ("ps_b", b'{"n":1,"s":"ps_b"}', "sig-1"),
        ]
        assert all(d.webhook_url == URL and d.attempts == 0 for d in claimed)
        assert all(d.give_up_at == T0 + GIVE_UP for d in claimed)

    async def test_rows_not_yet_created_are_not_due(self, store: Any) -> None:
        """A row becomes due at its creation time, not before."""
        pid = await new_project(store)
        await add_rows(store, pid, ["ps_a"])
        deliveries = self.deliveries(store)
        assert not await deliveries.has_due(CREATED - timedelta(seconds=1))
        assert await claim(deliveries, "w1", CREATED - timedelta(seconds=1)) == []
        assert await deliveries.has_due(CREATED)

    async def test_skipped_rows_are_never_claimed(self, store: Any) -> None:
        """A project without a webhook URL gets its rows recorded as skipped, never sent."""
        pid = await new_project(store, webhook_url=None)
        await add_rows(store, pid, ["ps_a", "ps_b"], deliver=False)
        deliveries = self.deliveries(store)
        assert not await deliveries.has_due(T0 + timedelta(hours=1))
        assert await claim(deliveries, "w1", T0 + timedelta(hours=1)) == []
        listed = await deliveries.list_deliveries(project_id=pid)
        assert [d.status for d in listed] == [DeliveryStatus.SKIPPED] * 2

    async def test_a_later_row_of_a_session_waits_for_the_earlier_one(self, store: Any) -> None:
        """Per-session order: one row per session at a time; other sessions are not held up."""
        pid = await new_project(store)
        await add_rows(store, pid, ["ps_a", "ps_a", "ps_b", "ps_a"])
        deliveries = self.deliveries(store)
        first = await claim(deliveries, "w1", T0)
        assert [(d.id, d.session_id) for d in first] == [(1, "ps_a"), (3, "ps_b")]
        retry_at = T0 + timedelta(seconds=5)
        await deliveries.record(
            "w1",
            [outcome(1, DeliveryStatus.PENDING, T0, http_status=500, next_attempt_at=retry_at)],
        )
        assert await claim(deliveries, "w2", T0 + timedelta(seconds=1)) == []
        again = await claim(deliveries, "w2", retry_at)
        assert [d.id for d in again] == [1]
        assert again[0].attempts == 1
        await deliveries.record("w2", [outcome(1, DeliveryStatus.FAILED, retry_at)])
        after = await claim(deliveries, "w2", retry_at)
        assert [d.id for d in after] == [2]

    async def test_a_leased_row_is_not_claimed_again_until_its_lease_ends(
        self,
        store: Any,
    ) -> None:
        """No two workers get the same row; a dead worker's rows come back after the lease."""
        pid = await new_project(store)
        await add_rows(store, pid, ["ps_a", "ps_b"])
        deliveries = self.deliveries(store)
        assert len(await claim(deliveries, "w1", T0)) == 2
        assert await claim(deliveries, "w2", T0 + LEASE - timedelta(seconds=1)) == []
        later = T0 + LEASE + timedelta(seconds=1)
        taken = await claim(deliveries, "w2", later, limit=1)
        assert [d.id for d in taken] == [1]
        assert taken[0].give_up_at == T0 + GIVE_UP  # the give-up clock kept its start

    async def test_claim_respects_the_limit_and_takes_the_oldest_due_first(
        self,
        store: Any,
    ) -> None:
        """``limit`` rows at most, in due order."""
        pid = await new_project(store)
        await add_rows(store, pid, [f"ps_{n}" for n in range(5)])
        deliveries = self.deliveries(store)
        assert [d.id for d in await claim(deliveries, "w1", T0, limit=2)] == [1, 2]
        assert [d.id for d in await claim(deliveries, "w1", T0, limit=10)] == [3, 4, 5]

    async def test_recorded_outcomes_keep_every_attempt(self, store: Any) -> None:
        """Delivered, retried and failed rows each keep time, status, latency and excerpt."""
        pid = await new_project(store)
        await add_rows(store, pid, ["ps_a", "ps_b"])
        deliveries = self.deliveries(store)
        await claim(deliveries, "w1", T0)
        t1 = T0 + timedelta(seconds=1)
        updated = await deliveries.record(
            "w1",
            [
                outcome(1, DeliveryStatus.DELIVERED, t1),
                outcome(2, DeliveryStatus.PENDING, t1, http_status=None, next_attempt_at=t1),
            ],
        )
        assert updated == 2
        one = await deliveries.get_delivery(1)
        assert one.status is DeliveryStatus.DELIVERED
        assert one.finished_at == t1
        assert one.attempts == 1
        [attempt] = one.attempt_log
        assert (attempt.attempted_at, attempt.worker) == (t1, "w1")
        assert (attempt.result.http_status, attempt.result.latency_ms) == (200, 3.5)
        assert attempt.result.excerpt == "ok"
        two = await deliveries.get_delivery(2)
        assert two.status is DeliveryStatus.PENDING
        assert two.last_error == "timeout"
        assert two.finished_at is None
        assert two.next_attempt_at == t1
        assert two.attempt_log[0].result.error == "timeout"

    async def test_an_outcome_from_a_worker_that_lost_its_lease_changes_nothing_but_the_log(
        self,
        store: Any,
    ) -> None:
        """After the lease passed to w2, w1's late outcome is logged but not applied."""
        pid = await new_project(store)
        await add_rows(store, pid, ["ps_a"])
        deliveries = self.deliveries(store)
        await claim(deliveries, "w1", T0)
        await claim(deliveries, "w2", T0 + LEASE + timedelta(seconds=1))
        late = T0 + LEASE + timedelta(seconds=2)
        assert await deliveries.record("w1", [outcome(1, DeliveryStatus.FAILED, late)]) == 0
        row = await deliveries.get_delivery(1)
        assert row.status is DeliveryStatus.PENDING
        assert len(row.attempt_log) == 1
        assert await deliveries.record("w2", [outcome(1, DeliveryStatus.DELIVERED, late)]) == 1

    async def test_released_rows_are_due_at_once(self, store: Any) -> None:
        """A stopping worker gives its leases back."""
        pid = await new_project(store)
        await add_rows(store, pid, ["ps_a"])
        deliveries = self.deliveries(store)
        await claim(deliveries, "w1", T0)
        await deliveries.release("w2", [1], T0)  # not w2's lease: nothing happens
        assert await claim(deliveries, "w2", T0) == []
        await deliveries.release("w1", [1], T0)
        assert [d.id for d in await claim(deliveries, "w2", T0)] == [1]

    async def test_replay_queues_the_same_bytes_as_a_new_delivery(self, store: Any) -> None:
        """A replay copies body and signature, points at the original, and is due at once."""
        pid = await new_project(store)
        await add_rows(store, pid, ["ps_a"])
        deliveries = self.deliveries(store)
        await claim(deliveries, "w1", T0)
        await deliveries.record("w1", [outcome(1, DeliveryStatus.FAILED, T0)])
        later = T0 + timedelta(hours=1)
        copy = await deliveries.replay(1, later)
        assert (copy.id, copy.replay_of, copy.status) == (2, 1, DeliveryStatus.PENDING)
        assert copy.attempts == 0
        [again] = await claim(deliveries, "w1", later)
        assert (again.id, again.body, again.signature) == (2, b'{"n":0,"s":"ps_a"}', "sig-0")
        assert again.give_up_at == later + GIVE_UP
        assert await deliveries.replay(99, later) is None

    async def test_replay_for_a_project_without_url_is_recorded_as_skipped(
        self,
        store: Any,
    ) -> None:
        """Clearing the URL means no deliveries, replays included."""
        pid = await new_project(store)
        await add_rows(store, pid, ["ps_a"])
        await store.set_webhook_url(pid, None)
        copy = await self.deliveries(store).replay(1, T0)
        assert copy.status is DeliveryStatus.SKIPPED

    async def test_list_is_newest_first_and_filters_by_project_and_failure(
        self,
        store: Any,
    ) -> None:
        """``kassa webhooks list --project P --failed``."""
        mine = await new_project(store)
        other = await new_project(store)
        await add_rows(store, mine, ["ps_a", "ps_b"])
        await add_rows(store, other, ["ps_c"])
        deliveries = self.deliveries(store)
        await claim(deliveries, "w1", T0)
        await deliveries.record("w1", [outcome(2, DeliveryStatus.FAILED, T0)])
        assert [d.id for d in await deliveries.list_deliveries()] == [3, 2, 1]
        assert [d.id for d in await deliveries.list_deliveries(project_id=mine)] == [2, 1]
        assert [d.id for d in await deliveries.list_deliveries(failed_only=True)] == [2]
        assert [d.id for d in await deliveries.list_deliveries(limit=1)] == [3]

    async def test_queue_stats_count_pending_rows_and_the_oldest(self, store: Any) -> None:
        """Depth and oldest creation time cover pending rows only."""
        pid = await new_project(store)
        deliveries = self.deliveries(store)
        empty = await deliveries.queue_stats()
        assert (empty.depth, empty.oldest_created_at) == (0, None)
        await add_rows(store, pid, ["ps_a", "ps_b", "ps_c"])
        await claim(deliveries, "w1", T0)
        await deliveries.record("w1", [outcome(1, DeliveryStatus.DELIVERED, T0)])
        stats = await deliveries.queue_stats()
        assert stats.depth == 2
        assert stats.oldest_created_at == CREATED + timedelta(microseconds=1)
