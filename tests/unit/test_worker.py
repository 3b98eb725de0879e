"""The worker loop (``kassa.worker``) on fakes: delivery, periodic jobs, settings."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from kassa.adapters.delivery_metrics import DeliveryMetrics
from kassa.config import ConfigError, Settings
from kassa.service.outbox import WebhookType, record_webhook
from kassa.service.ports.delivery import DeliveryStatus
from kassa.testing import FrozenClock, InMemoryDeliveries, InMemoryStore, ScriptedSender, fake_deps
from kassa.worker import Periodic, Worker, delivery_policy
from store_contract import project as make_project
from store_contract import session as make_session

FAST = Settings(worker_poll_seconds=0.01, webhook_timeout_seconds=0.5, worker_lease_seconds=1)


async def until(predicate, timeout: float = 5.0) -> None:
    """Yield to the loop until ``predicate()`` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met")
        await asyncio.sleep(0.01)


def sample(metrics: DeliveryMetrics, name: str, **labels: str) -> float | None:
    """One metric value from the registry."""
    return metrics.registry.get_sample_value(name, labels)


async def test_worker_delivers_queued_webhooks_and_counts_them() -> None:
    """Rows recorded by a state change are sent, marked delivered and counted in the metrics."""
    store = InMemoryStore()
    deps = fake_deps(store=store, clock=FrozenClock())
    project = make_project(webhook_url="https://hooks.example/kassa")
    await store.add_project(project)
    for _ in range(3):
        async with store.unit_of_work() as uow:
            record_webhook(
                deps, uow, project, WebhookType.PAYMENT_FINISHED, make_session(project.id)
            )
            await uow.commit()
    deliveries = InMemoryDeliveries(store)
    sender = ScriptedSender()
    metrics = DeliveryMetrics()
    worker = Worker(FAST, deps, deliveries, metrics=metrics, jobs=[], sender=sender)
    await worker.start()
    try:
        await until(lambda: len(sender.sent) == 3)
        await until(
            lambda: sample(metrics, "kassa_webhook_deliveries_total", outcome="delivered") == 3
        )
        await until(lambda: sample(metrics, "kassa_webhook_queue_depth") == 0)  # every 1 s
    finally:
        await worker.stop()
    assert {d.status for d in await deliveries.list_deliveries()} == {DeliveryStatus.DELIVERED}
    assert sender.closed


async def test_periodic_jobs_run_on_their_schedule_and_a_failing_job_does_not_stop_them() -> None:
    """A job registered as ``Periodic`` runs again and again beside one that raises."""
    runs: list[object] = []

    async def count(deps, now) -> None:
        runs.append(now)

    async def explode(deps, now) -> None:
        raise RuntimeError("job bug")

    store = InMemoryStore()
    worker = Worker(
        FAST,
        fake_deps(store=store),
        InMemoryDeliveries(store),
        jobs=[Periodic("explode", 0, explode), Periodic("count", 0, count)],
        sender=ScriptedSender(),
    )
    await worker.start()
    try:
        await until(lambda: len(runs) >= 3)
    finally:
        await worker.stop()
    assert [job.name for job in worker.jobs] == ["queue_gauges", "explode", "count"]


def test_settings_make_the_delivery_policy() -> None:
    """Every KASSA_WEBHOOK_* / KASSA_WORKER_* number reaches the policy."""
    policy = delivery_policy(
        Settings.from_env(
            {
                "KASSA_WEBHOOK_FIRST_DELAY_SECONDS": "0.5",
                "KASSA_WEBHOOK_MAX_INTERVAL_SECONDS": "60",
                "KASSA_WEBHOOK_GIVE_UP_SECONDS": "120",
                "KASSA_WORKER_LEASE_SECONDS": "30",
                "KASSA_WORKER_BATCH": "7",
                "KASSA_WORKER_CONCURRENCY": "9",
            },
        ),
    )
    assert policy.schedule.first_delay == timedelta(seconds=0.5)
    assert policy.schedule.max_interval == timedelta(seconds=60)
    assert policy.schedule.give_up_after == timedelta(seconds=120)
    assert (policy.lease, policy.batch, policy.concurrency) == (timedelta(seconds=30), 7, 9)


def test_default_schedule_matches_the_protocol() -> None:
    """10 s timeout, retries up to 15 min apart, give up after 30 min."""
    settings = Settings()
    policy = delivery_policy(settings)
    assert settings.webhook_timeout_seconds == 10
    assert policy.schedule.max_interval == timedelta(minutes=15)
    assert policy.schedule.give_up_after == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"KASSA_WORKER_LEASE_SECONDS": "10"}, "KASSA_WORKER_LEASE_SECONDS"),
        ({"KASSA_WORKER_CONCURRENCY": "0"}, "KASSA_WORKER_CONCURRENCY"),
        ({"KASSA_WEBHOOK_TIMEOUT_SECONDS": "0"}, "KASSA_WEBHOOK_TIMEOUT_SECONDS"),
        ({"KASSA_WEBHOOK_MAX_INTERVAL_SECONDS": "1"}, "KASSA_WEBHOOK_MAX_INTERVAL_SECONDS"),
        ({"KASSA_WEBHOOK_GIVE_UP_SECONDS": "-1"}, "KASSA_WEBHOOK_GIVE_UP_SECONDS"),
    ],
)
def test_delivery_settings_that_cannot_work_fail_at_start(env: dict[str, str], key: str) -> None:
    """A lease not longer than the timeout, zero concurrency… fail naming the key."""
    with pytest.raises(ConfigError, match=key):
        Settings.from_env(env)
