"""Prometheus metrics of webhook delivery, in a given registry (the app's, or the worker's own).

- ``kassa_webhook_deliveries_total{outcome}``: recorded outcomes: ``delivered``, ``retried``
  (an attempt failed and the next one is scheduled), ``failed`` (given up), ``skipped``.
- ``kassa_webhook_attempt_duration_seconds{result}``: latency of each HTTP attempt, by
  ``2xx``, ``non_2xx`` or ``error`` (timeout, refused connection, SSRF guard).
- ``kassa_webhook_queue_depth``: pending outbox rows (whole database).
- ``kassa_webhook_oldest_pending_age_seconds``: age of the oldest pending row (0 if none).

The two gauges describe the shared database, so every worker reports the same value; take
``max()`` across instances.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from kassa.service.ports.delivery import DeliveryStatus

if TYPE_CHECKING:
    from datetime import datetime

    from kassa.service.ports.delivery import DeliveryOutcome, QueueStats

_OUTCOME = {
    DeliveryStatus.DELIVERED: "delivered",
    DeliveryStatus.PENDING: "retried",
    DeliveryStatus.FAILED: "failed",
    DeliveryStatus.SKIPPED: "skipped",
}


class DeliveryMetrics:
    """Counters, the attempt latency histogram and the queue gauges."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        """Register the metrics in ``registry`` (a new one by default)."""
        self.registry = registry or CollectorRegistry()
        self.deliveries = Counter(
            "kassa_webhook_deliveries",
            "Webhook delivery outcomes: delivered, retried, failed (given up), skipped",
            ["outcome"],
            registry=self.registry,
        )
        self.attempt_latency = Histogram(
            "kassa_webhook_attempt_duration_seconds",
            "Latency of webhook HTTP attempts by result (2xx, non_2xx, error)",
            ["result"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "kassa_webhook_queue_depth",
            "Pending webhook deliveries in the outbox",
            registry=self.registry,
        )
        self.oldest_pending_age = Gauge(
            "kassa_webhook_oldest_pending_age_seconds",
            "Age of the oldest pending webhook delivery (0 when none)",
            registry=self.registry,
        )

    def observe(self, outcome: DeliveryOutcome) -> None:
        """Count one recorded outcome and its attempt's latency."""
        self.deliveries.labels(_OUTCOME[outcome.status]).inc()
        if outcome.attempt is not None:
            result = outcome.attempt.result
            if result.error is not None:
                label = "error"
            else:
                label = "2xx" if result.delivered else "non_2xx"
            self.attempt_latency.labels(label).observe(result.latency_ms / 1000)

    def queue(self, stats: QueueStats, now: datetime) -> None:
        """Set the gauges from the outbox's current state."""
        self.queue_depth.set(stats.depth)
        oldest = stats.oldest_created_at
        self.oldest_pending_age.set(
            0 if oldest is None else max(0.0, (now - oldest).total_seconds())
        )
