"""Several ``kassa worker`` processes on one database, and a worker killed mid-delivery."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kassa.service.outbox import WebhookType
from testkit import create_project, free_port, wait_for
from webhook_kit import (
    FLOW,
    Received,
    Receiver,
    WorkerProcess,
    deliveries,
    enqueue,
    server_public_pem,
    settled,
)

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.postgres
async def test_three_workers_deliver_each_of_1000_webhooks_exactly_once(
    pg_url: str,
    tmp_path: Path,
) -> None:
    """3 processes, 250 sessions x 4 webhooks: each arrives once, each session in order."""

    async def answer(_got: Received) -> int:
        await asyncio.sleep(0.005)  # a receiver with some latency, so every worker gets work
        return 200

    async with Receiver(server_public_pem(tmp_path), answer) as receiver:
        project = await create_project(pg_url, webhook_url=receiver.url)
        env = {"KASSA_WORKER_CONCURRENCY": "8", "KASSA_WORKER_BATCH": "8"}
        workers = [WorkerProcess(pg_url, tmp_path, **env) for _ in range(3)]
        try:
            for worker in workers:
                worker.start()
            events = [(f"ps_{s:03d}", t) for t in FLOW for s in range(250)]
            keys = await enqueue(pg_url, tmp_path, project.id, events, per_transaction=50)
            await wait_for(lambda: settled(pg_url, 1000), timeout=60)
        finally:
            codes = [worker.stop() for worker in workers]
    assert codes == [0, 0, 0]
    counts = Counter(receiver.keys())
    assert len(counts) == 1000
    assert set(counts) == set(keys)
    assert set(counts.values()) == {1}
    assert all(r.signature_ok for r in receiver.received)
    for session in {k[0] for k in keys}:
        seqs = [int(r.seq) for r in receiver.of_session(session)]
        assert seqs == sorted(seqs)
    rows = await deliveries(pg_url)
    assert {(d.status.value, d.attempts) for d in rows} == {("delivered", 1)}
    assert len({d.attempt_log[0].worker for d in rows}) == 3


async def test_a_worker_killed_mid_delivery_loses_nothing(
    database_url: str,
    tmp_path: Path,
) -> None:
    """SIGKILL while 10 requests hang: after the lease a new worker delivers all, in order."""
    gate = asyncio.Event()

    async def answer(_got: Received) -> int:
        await gate.wait()
        return 200

    async with Receiver(server_public_pem(tmp_path), answer) as receiver:
        project = await create_project(database_url, webhook_url=receiver.url)
        first = [(f"ps_{n}", WebhookType.PAYMENT_FINISHED) for n in range(9)]
        first += [("ps_x", WebhookType.READY_TO_CONFIRM), ("ps_x", WebhookType.PAYMENT_FINISHED)]
        keys = await enqueue(database_url, tmp_path, project.id, first)
        slow = {"KASSA_WEBHOOK_TIMEOUT_SECONDS": "2", "KASSA_WORKER_LEASE_SECONDS": "3"}
        doomed = WorkerProcess(database_url, tmp_path, **slow).start()
        try:
            await wait_for(lambda: len(receiver.received) >= 10, timeout=20)
        finally:
            doomed.kill()
        gate.set()
        late = [("ps_late", WebhookType.PAYMENT_FINISHED)]
        keys += await enqueue(database_url, tmp_path, project.id, late)
        with WorkerProcess(database_url, tmp_path):
            await wait_for(lambda: settled(database_url, 12), timeout=30)
    assert set(receiver.keys()) == set(keys)
    assert all(r.signature_ok for r in receiver.received)
    resent = Counter(receiver.keys())
    assert sorted(k[0] for k, n in resent.items() if n == 2) == sorted(
        [f"ps_{n}" for n in range(9)] + ["ps_x"],
    )
    assert [r.type for r in receiver.of_session("ps_x")] == [
        "ready_to_confirm",
        "ready_to_confirm",
        "payment_finished",
    ]
    rows = await deliveries(database_url)
    assert {d.status.value for d in rows} == {"delivered"}
    assert all(len(d.attempt_log) == 1 for d in rows)  # the killed worker recorded nothing


def sample(text: str, name: str, **labels: str) -> float | None:
    """One sample of a Prometheus text exposition, or None."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return None


async def test_a_standalone_worker_exports_its_metrics_on_the_metrics_port(
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    """``kassa worker --metrics-port P``: outcomes, latency, queue depth and oldest age.

    The receiver answers 500 until told otherwise: the webhook waits (depth 1, growing age,
    retries counted), then is delivered (depth 0, age 0).
    """
    port = free_port()
    receiving = asyncio.Event()

    async def answer(_got: Received) -> int:
        return 200 if receiving.is_set() else 500

    async with Receiver(server_public_pem(tmp_path), answer) as receiver:
        project = await create_project(sqlite_url, webhook_url=receiver.url)
        await enqueue(sqlite_url, tmp_path, project.id, [("ps_a", WebhookType.PAYMENT_FINISHED)])
        with WorkerProcess(sqlite_url, tmp_path, "--metrics-port", str(port)):

            def scrape() -> str:
                return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text

            def waiting() -> bool:
                text = scrape()
                retried = sample(text, "kassa_webhook_deliveries_total", outcome="retried")
                age = sample(text, "kassa_webhook_oldest_pending_age_seconds") or 0.0
                depth = sample(text, "kassa_webhook_queue_depth")
                return (retried or 0) >= 2 and depth == 1 and age > 0.2

            await wait_for(waiting, timeout=20)
            failing = scrape()
            receiving.set()
            await wait_for(lambda: settled(sqlite_url, 1), timeout=20)
            await wait_for(lambda: sample(scrape(), "kassa_webhook_queue_depth") == 0, timeout=10)
            text = scrape()
    latency = "kassa_webhook_attempt_duration_seconds_count"
    assert (sample(failing, latency, result="non_2xx") or 0) >= 2
    assert not sample(failing, "kassa_webhook_deliveries_total", outcome="delivered")
    assert sample(text, "kassa_webhook_deliveries_total", outcome="delivered") == 1
    assert sample(text, latency, result="2xx") == 1
    assert sample(text, "kassa_webhook_oldest_pending_age_seconds") == 0
