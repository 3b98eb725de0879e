"""Delivery metrics: outcomes, attempt latency, queue depth and oldest pending age."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from kassa.adapters.delivery_metrics import DeliveryMetrics
from kassa.config import Settings
from kassa.service.outbox import WebhookType, record_webhook
from kassa.service.ports.delivery import (
    AttemptRecord,
    DeliveryOutcome,
    DeliveryStatus,
    QueueStats,
    SendResult,
)
from kassa.testing import FrozenClock, InMemoryDeliveries, InMemoryStore, ScriptedSender, fake_deps
from kassa.worker import Worker
from store_contract import project as make_project
from store_contract import session as make_session

T0 = datetime(2024, 5, 27, 2, 3, tzinfo=UTC)


def value(metrics: DeliveryMetrics, name: str, **labels: str) -> float | None:
    """One sample from the registry (None if never set)."""
    return metrics.registry.get_sample_value(name, labels)


def outcome(status: DeliveryStatus, result: SendResult | None) -> DeliveryOutcome:
    """An outcome of delivery 1, with an attempt unless ``result`` is None."""
    attempt = None if result is None else AttemptRecord(T0, "w1", result)
    return DeliveryOutcome(1, status, T0, attempt)


def test_outcomes_are_counted_by_name_and_attempts_timed_by_result() -> None:
    """Counted as delivered, retried, failed, skipped; latency under 2xx, non_2xx or error."""
    metrics = DeliveryMetrics()
    metrics.observe(outcome(DeliveryStatus.DELIVERED, SendResult(204, 12.0)))
    metrics.observe(outcome(DeliveryStatus.PENDING, SendResult(500, 30.0)))
    metrics.observe(outcome(DeliveryStatus.PENDING, SendResult(None, 1000.0, error="timeout")))
    metrics.observe(outcome(DeliveryStatus.FAILED, SendResult(None, 2.0, error="refused: x")))
    metrics.observe(outcome(DeliveryStatus.SKIPPED, None))
    counted = {
        name: value(metrics, "kassa_webhook_deliveries_total", outcome=name)
        for name in ("delivered", "retried", "failed", "skipped")
    }
    assert counted == {"delivered": 1, "retried": 2, "failed": 1, "skipped": 1}
    hist = "kassa_webhook_attempt_duration_seconds"
    assert value(metrics, f"{hist}_count", result="2xx") == 1
    assert value(metrics, f"{hist}_sum", result="2xx") == pytest.approx(0.012)
    assert value(metrics, f"{hist}_count", result="non_2xx") == 1
    assert value(metrics, f"{hist}_count", result="error") == 2
    assert value(metrics, f"{hist}_sum", result="error") == pytest.approx(1.002)


def test_queue_gauges_show_depth_and_the_oldest_pending_age() -> None:
    """Depth is the pending count; age is now minus the oldest creation time, 0 when empty."""
    metrics = DeliveryMetrics()
    metrics.queue(QueueStats(7, T0), T0 + timedelta(seconds=90))
    assert value(metrics, "kassa_webhook_queue_depth") == 7
    assert value(metrics, "kassa_webhook_oldest_pending_age_seconds") == 90
    metrics.queue(QueueStats(0, None), T0 + timedelta(seconds=95))
    assert value(metrics, "kassa_webhook_queue_depth") == 0
    assert value(metrics, "kassa_webhook_oldest_pending_age_seconds") == 0


async def test_the_worker_reports_a_waiting_webhook_in_its_gauges() -> None:
    """A webhook kept pending by failing answers shows as depth 1, its age, and retries."""
    clock = FrozenClock()
    store = InMemoryStore()
    deps = fake_deps(store=store, clock=clock)
    project = make_project(webhook_url="https://hooks.example/kassa")
    await store.add_project(project)
    async with store.unit_of_work() as uow:
        record_webhook(deps, uow, project, WebhookType.PAYMENT_FINISHED, make_session(project.id))
        await uow.commit()
    created = clock.now()
    clock.advance(timedelta(seconds=42))
    metrics = DeliveryMetrics()
    settings = Settings(worker_poll_seconds=0.01, webhook_timeout_seconds=0.5)
    sender = ScriptedSender(500)
    deliveries = InMemoryDeliveries(store)
    worker = Worker(settings, deps, deliveries, metrics=metrics, jobs=[], sender=sender)
    await worker.start()
    try:
        for _ in range(500):
            retried = value(metrics, "kassa_webhook_deliveries_total", outcome="retried")
            if retried == 1 and value(metrics, "kassa_webhook_queue_depth") == 1:
                break
            await asyncio.sleep(0.01)
    finally:
        await worker.stop()
    assert len(sender.sent) == 1  # the retry is 5 s away on the frozen clock
    assert value(metrics, "kassa_webhook_deliveries_total", outcome="retried") == 1
    assert value(metrics, "kassa_webhook_queue_depth") == 1
    age = value(metrics, "kassa_webhook_oldest_pending_age_seconds")
    assert age == (clock.now() - created).total_seconds() == 42
