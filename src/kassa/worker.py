"""``kassa worker``: webhook delivery and periodic jobs, as its own process or inside ``serve``.

The loop (``Worker``):

- delivery: ``service.delivery.DeliveryPump`` claims due webhooks while it has free slots
  (``KASSA_WORKER_CONCURRENCY``, at most ``KASSA_WORKER_BATCH`` per claim) and sends them
  concurrently; when nothing is due it sleeps ``KASSA_WORKER_POLL_SECONDS``;
- periodic jobs, in a task of their own so a slow job never holds up delivery; the queue
  gauges (depth, oldest pending age) are refreshed by one of them every second.

``SIGTERM``/``SIGINT`` (or ``stop()``) ends claiming, lets in-flight sends finish for up to the
webhook timeout, records them, gives unfinished leases back and closes. ``SIGKILL`` loses
nothing either: the leases of a killed worker expire (``KASSA_WORKER_LEASE_SECONDS``) and any
worker sends those rows again.

Periodic jobs: a ``Periodic(name, every, job)`` with ``job`` an ``async (deps, now)`` (what
it returns is dropped). Append one to ``PERIODIC_JOBS`` (the timeout sweeper:
``Periodic("timeouts", 1.0, timeouts.sweep_timeouts)``) and every worker, standalone or
in-process, runs it every ``every`` seconds (0: every poll). A job that raises is logged and
runs again at its next turn. Several workers run the same jobs at once, so a job must be safe
concurrently (version-checked updates, or ``SKIP LOCKED`` claims).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog

from kassa.adapters.delivery_metrics import DeliveryMetrics
from kassa.adapters.webhook_sender import AiohttpWebhookSender
from kassa.domain.backoff import RetrySchedule
from kassa.service import timeouts
from kassa.service.delivery import DeliveryPolicy, DeliveryPump
from kassa.service.ports.delivery import DeliveryStatus

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from datetime import datetime

    from kassa.config import Settings
    from kassa.service.deps import Deps
    from kassa.service.ports.delivery import (
        Delivery,
        DeliveryOutcome,
        DeliveryStore,
        WebhookSender,
    )

log = structlog.get_logger("kassa.worker")


@dataclass(frozen=True, slots=True)
class Periodic:
    """A job the worker runs every ``every`` seconds (0: every poll)."""

    name: str
    every: float
    job: Callable[[Deps, datetime], Awaitable[object]]  # what it returns is dropped


PERIODIC_JOBS: list[Periodic] = [  # jobs every worker runs besides delivery (see docstring)
    Periodic("timeouts", 1.0, timeouts.sweep_timeouts),
]


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    """The delivery policy that ``settings`` describe."""
    return DeliveryPolicy(
        schedule=RetrySchedule(
            first_delay=timedelta(seconds=settings.webhook_first_delay_seconds),
            max_interval=timedelta(seconds=settings.webhook_max_interval_seconds),
            give_up_after=timedelta(seconds=settings.webhook_give_up_seconds),
        ),
        lease=timedelta(seconds=settings.worker_lease_seconds),
        batch=settings.worker_batch,
        concurrency=settings.worker_concurrency,
    )


def worker_name() -> str:
    """A lease owner name unique to this process: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class _Report:
    """``DeliveryEvents``: metrics for every outcome, a log line for the noteworthy ones."""

    def __init__(self, metrics: DeliveryMetrics) -> None:
        self.metrics = metrics

    def outcome(self, delivery: Delivery, outcome: DeliveryOutcome) -> None:
        self.metrics.observe(outcome)
        if outcome.status is DeliveryStatus.DELIVERED:
            return
        fields = {
            "delivery_id": delivery.id,
            "project": delivery.project_id,
            "session_id": delivery.session_id,
            "type": delivery.event_type,
            "error": outcome.error,
        }
        if outcome.status is DeliveryStatus.FAILED:
            log.warning("webhook_failed", attempts=delivery.attempts + 1, **fields)
        elif outcome.status is DeliveryStatus.PENDING:
            log.info("webhook_retry", next_attempt_at=str(outcome.next_attempt_at), **fields)
        else:
            log.info("webhook_skipped", **fields)

    def trouble(self, what: str, exc: BaseException) -> None:
        log.warning("delivery_trouble", what=what, error=f"{type(exc).__name__}: {exc}")


class Worker:
    """Delivery plus periodic jobs over one store; ``start()`` then ``stop()``."""

    def __init__(
        self,
        settings: Settings,
        deps: Deps,
        deliveries: DeliveryStore,
        *,
        metrics: DeliveryMetrics | None = None,
        jobs: Sequence[Periodic] | None = None,
        sender: WebhookSender | None = None,
    ) -> None:
        """Prepare (not start) a worker; without ``metrics`` it keeps its own registry."""
        self.settings = settings
        self.deps = deps
        self.deliveries = deliveries
        self.metrics = metrics or DeliveryMetrics()
        self.owner = worker_name()
        self.jobs = [
            Periodic("queue_gauges", 1.0, self._refresh_gauges),
            *(PERIODIC_JOBS if jobs is None else jobs),
        ]
        self._sender = sender
        self._pump: DeliveryPump | None = None
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Open the HTTP pool and start the delivery and job loops."""
        if self._sender is None:
            self._sender = AiohttpWebhookSender(
                timeout=self.settings.webhook_timeout_seconds,
                allow_private=self.settings.allow_private_webhooks,
                max_connections=self.settings.worker_concurrency,
            )
        self._pump = DeliveryPump(
            self.deliveries,
            self._sender,
            self.deps.clock,
            delivery_policy(self.settings),
            self.owner,
            events=_Report(self.metrics),
        )
        self._tasks = [
            asyncio.create_task(self._deliver(self._pump), name="kassa-delivery"),
            asyncio.create_task(self._run_jobs(), name="kassa-jobs"),
        ]
        log.info(
            "worker_started",
            owner=self.owner,
            concurrency=self.settings.worker_concurrency,
            sandbox=self.settings.sandbox,
            allow_private_webhooks=self.settings.allow_private_webhooks,
        )

    async def wait(self) -> None:
        """Return when a loop ends (only by ``stop()``, or a bug: it is then re-raised)."""
        done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()

    async def stop(self) -> None:
        """Stop claiming, finish or give back in-flight deliveries, close the HTTP pool."""
        self._stopping.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), self.settings.worker_poll_seconds + 5)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._pump is not None:
            await self._pump.stop(grace=self.settings.webhook_timeout_seconds + 1)
        if self._sender is not None:
            await self._sender.close()
        log.info("worker_stopped", owner=self.owner)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _deliver(self, pump: DeliveryPump) -> None:
        poll = self.settings.worker_poll_seconds
        while not self._stopping.is_set():
            try:
                claimed = await pump.pump()
            except Exception as exc:  # noqa: BLE001 - the database may come back
                log.warning("claim_failed", error=f"{type(exc).__name__}: {exc}")
                await self._sleep(max(poll, 1.0))
                continue
            if not pump.free:
                await pump.wait_for_slot(poll)
            elif not claimed:
                await self._sleep(poll)

    async def _run_jobs(self) -> None:
        loop = asyncio.get_running_loop()
        due = dict.fromkeys((job.name for job in self.jobs), 0.0)
        while not self._stopping.is_set():
            for job in self.jobs:
                if loop.time() < due[job.name]:
                    continue
                due[job.name] = loop.time() + job.every
                try:
                    await job.job(self.deps, self.deps.clock.now())
                except Exception as exc:  # noqa: BLE001 - a job failing must not stop the worker
                    log.warning("job_failed", job=job.name, error=f"{type(exc).__name__}: {exc}")
            await self._sleep(self.settings.worker_poll_seconds)

    async def _refresh_gauges(self, _deps: Deps, now: datetime) -> None:
        self.metrics.queue(await self.deliveries.queue_stats(), now)


async def run_worker(settings: Settings, *, metrics_port: int | None = None) -> None:
    """``kassa worker``: deliver until SIGTERM or SIGINT, then stop gracefully."""
    from kassa import bootstrap  # noqa: PLC0415 - the composition root, loaded at run time

    container = await bootstrap.build(settings)
    metrics = DeliveryMetrics()
    server = None
    if metrics_port is not None:
        from prometheus_client import start_http_server  # noqa: PLC0415

        server, _thread = start_http_server(
            metrics_port, addr="127.0.0.1", registry=metrics.registry
        )
    worker = Worker(settings, container.deps, container.store.deliveries, metrics=metrics)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await worker.start()
        stopped = asyncio.create_task(stop.wait())
        running = asyncio.create_task(worker.wait())
        await asyncio.wait({stopped, running}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if running.done():
            running.result()
        running.cancel()
    finally:
        await worker.stop()
        await container.close()
        if server is not None:
            server.shutdown()
