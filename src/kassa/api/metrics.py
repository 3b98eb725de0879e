"""Prometheus metrics for the API, labelled by route template and outcome.

The same object is the operation pipeline's ``Probe``: ``kassa_operation_steps_total{step}``
counts operations reaching each step, ``kassa_version_conflicts_total`` the transactions that
lost a version check and were retried (two requests deciding on one session at once).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram


class ApiMetrics:
    """Counters and histograms of one app (its own registry, so tests can build two apps)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        """Create the metrics in ``registry`` (a new one by default)."""
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "kassa_requests",
            "API requests by method and outcome (ok or the error code)",
            ["method", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kassa_request_duration_seconds",
            "API request latency by method",
            ["method"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.steps = Counter(
            "kassa_operation_steps",
            "Operations reaching a step of the pipeline",
            ["step"],
            registry=self.registry,
        )
        self.conflicts = Counter(
            "kassa_version_conflicts",
            "Transactions that lost a version check and were retried",
            registry=self.registry,
        )
        # Labelled children by their labels: ``labels()`` costs a lock and a dict build each
        # time; routes, outcomes (error codes) and steps are few, fixed names.
        self._children: dict[tuple[str, ...], Any] = {}

    def _child(self, metric: Counter | Histogram, *labels: str) -> Any:  # noqa: ANN401
        key = (metric._name, *labels)  # noqa: SLF001 - the metric's own name keys its children
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def request(self, route: str, outcome: str, seconds: float) -> None:
        """Count one API request and its latency."""
        self._child(self.requests, route, outcome).inc()
        self._child(self.latency, route).observe(seconds)

    async def at(self, step: str, session_id: str) -> None:
        """``service.ports.Probe``: count ``step`` (a lost version check as a conflict)."""
        del session_id
        if step == "conflict":
            self.conflicts.inc()
        else:
            self._child(self.steps, step).inc()
