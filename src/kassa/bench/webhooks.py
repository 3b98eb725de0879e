"""``kassa bench webhooks``: delivery throughput (1 and 3 workers) and commit-to-delivery lag.

A scenario of the common runner (``bench/runner.py``): the scratch database is the run's (1
worker on SQLite), the receiver a counting process on 127.0.0.1 (``bench/receiver.py``):

1. Baseline: the receiver's raw capacity, i.e. one aiohttp client process posting the same
   signed bodies at the worker's concurrency (64) with no database at all.
2. Throughput: N webhooks (300 per second of ``--duration``, 500 to 4,000) committed in one
   transaction while 1 (then 3) ``kassa worker`` processes with default settings are
   polling; timed from the commit to the N-th arrival.
   Steps 1 and 2 repeat in interleaved rounds (3; 1 under 10 s), so background load hits all
   of them alike.
3. Lag: 3 workers running; one state change per transaction at 200/s for ``--duration``, each
   through ``record_webhook`` (rendered, signed, committed with its row); lag is the arrival
   time minus the time ``commit()`` returned.

Speed is reported as a ratio to the same round's baseline because the machines are noisy.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median
from typing import TYPE_CHECKING

import httpx
import orjson

from kassa import bootstrap
from kassa.bench.load import LoadResult, Prepared, run_load
from kassa.bench.report import Measure
from kassa.bench.scratch import free_port, stop
from kassa.config import Settings
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.project import Project
from kassa.domain.session import ApiVersion, PaymentSession, SessionDraft, SessionStatus
from kassa.service.outbox import WebhookType, record_webhook

if TYPE_CHECKING:
    from pathlib import Path

    from kassa.bench.runner import Bench

PHASE_LIMIT = 180.0  # seconds any phase may take before the bench gives up
LAG_RATE = 200.0  # state changes per second while the lag is measured
GOAL_DELIVERIES = 1500.0  # the webhooks issue's goals
GOAL_LAG_P99_MS = 200.0


@dataclass(frozen=True, slots=True)
class ThroughputRun:
    """N deliveries by ``workers`` processes, from commit to the last arrival."""

    workers: int
    deliveries: int
    seconds: float

    @property
    def rate(self) -> float:
        """Deliveries per second."""
        return self.deliveries / self.seconds


class _Processes:
    """Child processes of the bench, all stopped at the end."""

    def __init__(self, workdir: Path, database_url: str) -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.children: list[subprocess.Popen[bytes]] = []

    def receiver(self, port: int) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(  # noqa: S603 - our own module
            [sys.executable, "-m", "kassa.bench.receiver", str(port), "--max-seconds", "900"],
        )
        self.children.append(proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"http://127.0.0.1:{port}/stats", timeout=1)
                return proc
            time.sleep(0.05)
        msg = "bench receiver did not start"
        raise RuntimeError(msg)

    def workers(self, count: int) -> list[subprocess.Popen[bytes]]:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("KASSA_")},
            "KASSA_DATABASE_URL": self.database_url,
            "KASSA_DATA_DIR": str(self.workdir),
            "KASSA_ALLOW_PRIVATE_WEBHOOKS": "1",  # the receiver is on 127.0.0.1
        }
        started = []
        for n in range(count):
            log = self.workdir / f"worker-{len(self.children)}-{n}.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "kassa", "worker"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            self.children.append(proc)
            started.append((proc, log))
        deadline = time.monotonic() + 30
        for proc, log in started:
            while "worker_started" not in log.read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    msg = f"kassa worker did not start: {log.read_text()[-1000:]}"
                    raise RuntimeError(msg)
                time.sleep(0.05)
        return [proc for proc, _log in started]

    def close(self) -> None:
        stop([p for p in self.children if p.poll() is None])


def _session(project_id: str, session_id: str) -> PaymentSession:
    now = datetime.now(UTC)
    return PaymentSession(
        id=session_id,
        project_id=project_id,
        api_version=ApiVersion.V1,
        status=SessionStatus.ACCEPTED,
        created_at=now,
        updated_at=now,
        finished_at=now,
        draft=SessionDraft(metadata="order-123", has_metadata=True),
    )


class _Producer:
    """Writes outbox rows the way a state change does, in the bench process."""

    def __init__(self, container: bootstrap.Container, project: Project) -> None:
        self.container = container
        self.project = project

    async def bulk(self, prefix: str, count: int) -> float:
        """Queue ``count`` webhooks in one transaction; return the time just before commit."""
        deps = self.container.deps
        async with self.container.store.unit_of_work() as uow:
            for n in range(count):
                session = _session(self.project.id, f"{prefix}{n}")
                record_webhook(deps, uow, self.project, WebhookType.PAYMENT_FINISHED, session)
            started = time.time()
            await uow.commit()
        return started

    async def steady(self, prefix: str, rate: float, seconds: float) -> dict[str, float]:
        """One change per transaction at ``rate``/s for ``seconds``; session id → commit time."""
        deps = self.container.deps
        committed: dict[str, float] = {}
        start = time.monotonic()
        for n in range(round(rate * seconds)):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            session = _session(self.project.id, f"{prefix}{n}")
            async with self.container.store.unit_of_work() as uow:
                record_webhook(deps, uow, self.project, WebhookType.PAYMENT_FINISHED, session)
                await uow.commit()
            committed[session.id] = time.time()
        return committed


async def _arrivals(base: str, expected: int) -> dict[str, float]:
    """Wait until the receiver counted ``expected`` requests; session id → arrival time."""
    deadline = time.monotonic() + PHASE_LIMIT
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        while (await http.get("/stats")).json()["count"] < expected:
            if time.monotonic() > deadline:
                msg = f"receiver did not get {expected} webhooks within {PHASE_LIMIT:.0f} s"
                raise RuntimeError(msg)
            await asyncio.sleep(0.02)
        return dict(orjson.loads((await http.get("/arrivals")).content))


def _prepared(count: int, sample: bytes, signature: str) -> list[Prepared]:
    headers = {"Content-Type": "application/json", "X-PARTNER-SIGN": signature}
    return [Prepared("/hook", sample, headers) for _ in range(count)]


async def _throughput(
    procs: _Processes,
    producer: _Producer,
    base: str,
    *,
    workers: int,
    label: str,
    deliveries: int,
    seen: int,
) -> ThroughputRun:
    """Start ``workers``, commit ``deliveries`` webhooks at once, time them, stop the workers."""
    running = procs.workers(workers)
    try:
        started = await producer.bulk(label, deliveries)
        arrived = await _arrivals(base, seen + deliveries)
    finally:
        stop(running)
    last = max(at for sid, at in arrived.items() if sid.startswith(label))
    return ThroughputRun(workers, deliveries, last - started)


async def _measure(
    bench: Bench, deliveries: int, rounds: int, worker_counts: tuple[int, ...]
) -> None:
    """Interleaved rounds of baseline and N-worker throughput, then the steady-rate lag."""
    report, seconds = bench.report, float(bench.options.seconds)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    procs = _Processes(bench.workdir, bench.url)
    container = await bootstrap.build(Settings(database_url=bench.url, data_dir=bench.workdir))
    try:
        project = Project(
            id=new_id(IdPrefix.PROJECT),
            name="bench",
            public_keys=(),
            created_at=datetime.now(UTC),
            webhook_url=f"{base}/hook",
        )
        await container.store.add_project(project)
        producer = _Producer(container, project)
        procs.receiver(port)
        sample = b'{"type":"payment_finished","session":{"id":"ps_raw","status":"accepted"}}'
        signature = container.deps.signer.sign(sample)
        await run_load(base, _prepared(500, sample, signature), 64)  # warm-up
        seen = 500
        raws: list[LoadResult] = []
        runs: dict[int, list[ThroughputRun]] = {n: [] for n in worker_counts}
        for n in range(rounds):
            raws.append(await run_load(base, _prepared(deliveries, sample, signature), 64))
            seen += deliveries
            for workers in worker_counts:
                label = f"ps_r{n}w{workers}_"
                runs[workers].append(
                    await _throughput(
                        procs,
                        producer,
                        base,
                        workers=workers,
                        label=label,
                        deliveries=deliveries,
                        seen=seen,
                    )
                )
                seen += deliveries
        raw = median(r.rate for r in raws)
        report.figures["baseline: receiver raw capacity (req/s, median of rounds)"] = raw
        for workers, measured in runs.items():
            rate = median(r.rate for r in measured)
            report.figures[f"{workers} worker(s): deliveries/s (median of rounds)"] = rate
            report.figures[f"{workers} worker(s) / receiver raw"] = rate / raw if raw else 0.0
        most = max(worker_counts)
        best = median(r.rate for r in runs[most])
        report.goal(
            f"≥ {GOAL_DELIVERIES:,.0f} deliveries/s with {most} worker(s)",
            met=best >= GOAL_DELIVERIES,
            detail=f"{best:,.0f}/s",
        )
        running = procs.workers(most)
        began = time.monotonic()
        committed = await producer.steady("ps_lag_", LAG_RATE, seconds)
        achieved = len(committed) / (time.monotonic() - began)
        arrived = await _arrivals(base, seen + len(committed))
        stop(running)
        lags = [(arrived[sid] - at) * 1000 for sid, at in committed.items()]
        lag = Measure.of(
            lags,
            requests=len(lags),
            errors=0,
            seconds=len(committed) / achieved if achieved else 0.0,
            unit="changes/s",
        )
        report.results[f"commit-to-delivery lag, {LAG_RATE:.0f} changes/s, {most} worker(s)"] = lag
        report.goal(
            f"p99 lag < {GOAL_LAG_P99_MS:.0f} ms at {LAG_RATE:.0f} changes/s",
            met=lag.p99_ms < GOAL_LAG_P99_MS,
            detail=f"p99 {lag.p99_ms:.1f} ms",
        )
        report.notes.append(
            f"{rounds} interleaved round(s) of {deliveries:,} webhooks committed in one "
            "transaction, timed from the commit to the last arrival at a counting receiver; "
            "the baseline is the receiver's raw capacity (one aiohttp client, 64 connections, "
            "no database). Lag: one change per transaction through record_webhook."
        )
    finally:
        procs.close()
        await container.close()


def webhooks(bench: Bench) -> None:
    """Deliveries/s with 1 and 3 workers (1 on SQLite) and commit-to-delivery lag."""
    seconds = bench.options.seconds
    deliveries = max(500, min(4000, 300 * seconds))
    rounds = 3 if seconds >= 10 else 1  # noqa: PLR2004 - a smoke run takes one round
    counts = (1,) if bench.sqlite else (1, 3)
    asyncio.run(_measure(bench, deliveries, rounds, counts))
