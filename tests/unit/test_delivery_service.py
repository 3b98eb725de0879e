"""Webhook delivery use cases (``service/delivery.py``) on fakes: no database, no network."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from kassa.domain.backoff import RetrySchedule
from kassa.service.delivery import DeliveryPolicy, DeliveryPump, attempt, decide
from kassa.service.outbox import WebhookType, record_webhook
from kassa.service.ports.delivery import (
    AttemptRecord,
    Delivery,
    DeliveryStatus,
    SendResult,
)
from kassa.testing import (
    EPOCH_OF_TESTS,
    FrozenClock,
    InMemoryDeliveries,
    InMemoryStore,
    ScriptedSender,
    fake_deps,
)
from store_contract import project as make_project
from store_contract import session as make_session

T0 = EPOCH_OF_TESTS
SCHEDULE = RetrySchedule()
URL = "http://hooks.example/kassa"


def delivery(attempts: int = 0, url: str | None = URL) -> Delivery:
    """A claimed row whose first attempt was at T0."""
    return Delivery(
        id=1,
        project_id="pj_1",
        session_id="ps_1",
        event_type="payment_finished",
        body=b"{}",
        signature="sig",
        attempts=attempts,
        created_at=T0,
        give_up_at=SCHEDULE.give_up_at(T0),
        webhook_url=url,
    )


def tried(status: int | None, error: str | None = None) -> AttemptRecord:
    """An attempt at T0 with this answer."""
    return AttemptRecord(T0, "w1", SendResult(status, 2.0, error=error))


class BlockingSender(ScriptedSender):
    """Holds every send until ``gate`` opens."""

    def __init__(self) -> None:
        """Closed gate."""
        super().__init__()
        self.gate = asyncio.Event()
        self.started = 0

    async def send(self, url: str, body: bytes, signature: str) -> SendResult:
        """Wait for the gate, then answer 200."""
        self.started += 1
        await self.gate.wait()
        return await super().send(url, body, signature)


async def queued(count: int, *, webhook_url: str | None = URL, sessions: int | None = None):
    """A fake store with ``count`` recorded webhooks, its delivery queue, clock and deps."""
    store = InMemoryStore()
    clock = FrozenClock()
    deps = fake_deps(store=store, clock=clock)
    project = make_project(webhook_url=webhook_url)
    await store.add_project(project)
    for n in range(count):
        session = make_session(project.id, id=f"ps_{n % (sessions or count)}")
        async with store.unit_of_work() as uow:
            record_webhook(deps, uow, project, WebhookType.PAYMENT_FINISHED, session)
            await uow.commit()
    return store, InMemoryDeliveries(store), clock


async def settle(pump: DeliveryPump) -> None:
    """Let sends and the recorder run until nothing is in flight."""
    for _ in range(200):
        if pump.in_flight == 0:
            return
        await asyncio.sleep(0)
    raise AssertionError("pump did not settle")


def test_only_a_2xx_answer_is_delivered() -> None:
    """200 and 204 deliver; 301, 404, 500 and errors do not."""
    for status in (200, 204, 299):
        assert (
            decide(delivery(), tried(status), T0, SCHEDULE, 0.0).status is DeliveryStatus.DELIVERED
        )
    for status in (301, 404, 500):
        outcome = decide(delivery(), tried(status), T0, SCHEDULE, 0.0)
        assert outcome.status is DeliveryStatus.PENDING
        assert outcome.error == f"HTTP {status}"
    refused = decide(delivery(), tried(None, "connection failed: refused"), T0, SCHEDULE, 0.0)
    assert refused.status is DeliveryStatus.PENDING
    assert refused.error == "connection failed: refused"


def test_a_failed_attempt_is_retried_after_the_jittered_first_delay() -> None:
    """After the first failure the retry comes 3.75-5 s later (5 s less up to a quarter)."""
    early = decide(delivery(), tried(500), T0, SCHEDULE, 0.99).next_attempt_at
    late = decide(delivery(), tried(500), T0, SCHEDULE, 0.0).next_attempt_at
    assert early is not None
    assert late == T0 + timedelta(seconds=5)
    assert T0 + timedelta(seconds=3.75) < early < late


def test_a_failure_after_the_give_up_time_fails_the_delivery() -> None:
    """Past the deadline the outcome is final, with the reason kept."""
    after = T0 + timedelta(minutes=30)
    outcome = decide(delivery(attempts=9), tried(503), after, SCHEDULE, 0.0)
    assert outcome.status is DeliveryStatus.FAILED
    assert outcome.error == "HTTP 503"
    assert outcome.next_attempt_at is None


async def test_a_project_without_url_at_send_time_is_skipped_without_sending() -> None:
    """The URL was removed after the row was queued: skipped, nothing sent, no attempt."""
    sender = ScriptedSender()
    outcome = await attempt(
        sender,
        FrozenClock(),
        delivery(url=None),
        schedule=SCHEDULE,
        worker="w1",
        rand=0.0,
    )
    assert outcome.status is DeliveryStatus.SKIPPED
    assert outcome.attempt is None
    assert sender.sent == []


async def test_pump_sends_the_recorded_bytes_and_records_the_outcomes() -> None:
    """Claimed rows go out with their stored body and signature and end delivered."""
    store, deliveries, clock = await queued(3)
    sender = ScriptedSender(500)
    pump = DeliveryPump(deliveries, sender, clock, DeliveryPolicy(), "w1", rand=lambda: 0.0)
    assert await pump.pump() == 3
    await settle(pump)
    rows = {r.id: r.message for r in store.outbox()}
    assert sorted(sender.sent) == sorted((URL, m.body, m.signature) for m in rows.values())
    listed = {d.id: d for d in await deliveries.list_deliveries()}
    assert sorted(d.status for d in listed.values()) == ["delivered", "delivered", "pending"]
    retried = next(d for d in listed.values() if d.status is DeliveryStatus.PENDING)
    assert retried.next_attempt_at == T0 + timedelta(seconds=5)
    assert retried.attempt_log[0].result.http_status == 500
    await pump.stop(grace=0.1)


async def test_pump_never_has_more_rows_in_flight_than_its_concurrency() -> None:
    """With 2 slots and 5 due rows, 2 are claimed until one is recorded."""
    _store, deliveries, clock = await queued(5)
    sender = BlockingSender()
    policy = DeliveryPolicy(concurrency=2, batch=50)
    pump = DeliveryPump(deliveries, sender, clock, policy, "w1")
    assert await pump.pump() == 2
    assert await pump.pump() == 0
    await asyncio.sleep(0)
    assert sender.started == 2
    sender.gate.set()
    await settle(pump)
    assert await pump.pump() == 2
    await settle(pump)
    assert await pump.pump() == 1
    await settle(pump)
    assert len(sender.sent) == 5
    await pump.stop(grace=0.1)


async def test_stopping_gives_unfinished_leases_back() -> None:
    """A send still running when the grace ends is cancelled and its row is due again."""
    _store, deliveries, clock = await queued(2)
    sender = BlockingSender()
    pump = DeliveryPump(deliveries, sender, clock, DeliveryPolicy(), "w1")
    assert await pump.pump() == 2
    await asyncio.sleep(0)
    await pump.stop(grace=0.01)
    again = await deliveries.claim("w2", clock.now(), clock.now(), clock.now(), 10)
    assert [d.id for d in again] == [1, 2]


async def test_a_crashing_send_is_recorded_as_a_failed_attempt() -> None:
    """An unexpected exception in one send becomes an attempt with an error; others go on."""

    class Exploding(ScriptedSender):
        async def send(self, url: str, body: bytes, signature: str) -> SendResult:
            if body == first_body:
                raise RuntimeError("bug")
            return await super().send(url, body, signature)

    store, deliveries, clock = await queued(2)
    first_body = store.outbox()[0].message.body
    pump = DeliveryPump(deliveries, Exploding(), clock, DeliveryPolicy(), "w1")
    await pump.pump()
    await settle(pump)
    one, two = await deliveries.get_delivery(1), await deliveries.get_delivery(2)
    assert one is not None
    assert two is not None
    assert one.status is DeliveryStatus.PENDING
    assert one.attempt_log[0].result.error == "internal error: RuntimeError"
    assert two.status is DeliveryStatus.DELIVERED
    await pump.stop(grace=0.1)


async def test_a_failing_database_write_is_retried_until_it_works() -> None:
    """The recorder keeps the outcomes and writes them once the database answers again."""

    class Flaky(InMemoryDeliveries):
        failures = 2

        async def record(self, owner, outcomes):
            if self.failures:
                self.failures -= 1
                raise OSError("database down")
            return await super().record(owner, outcomes)

    store, _deliveries, clock = await queued(1)
    deliveries = Flaky(store)
    troubles: list[str] = []

    class Events:
        def outcome(self, delivery, outcome) -> None:
            pass

        def trouble(self, what, exc) -> None:
            troubles.append(f"{what}: {exc}")

    pump = DeliveryPump(
        deliveries, ScriptedSender(), clock, DeliveryPolicy(), "w1", events=Events()
    )
    await pump.pump()
    for _ in range(100):
        if pump.in_flight == 0:
            break
        await asyncio.sleep(0.05)
    assert troubles == ["record: database down", "record: database down"]
    row = await deliveries.get_delivery(1)
    assert row is not None
    assert row.status is DeliveryStatus.DELIVERED
    await pump.stop(grace=0.1)
