"""``kassa bench webhooks``: delivery throughput (1 and 3 workers) and commit-to-delivery lag.

All on one machine, one run, against a scratch PostgreSQL database and a counting receiver
process on 127.0.0.1 (``bench/receiver.py``):

1. Baseline: the receiver's raw capacity, i.e. one aiohttp client process posting the same
   signed bodies at the worker's concurrency (64) with no database at all.
2. Throughput: N webhooks committed in one transaction while 1 (then 3) ``kassa worker``
   processes with default settings are polling; timed from the commit to the N-th arrival.
   Steps 1 and 2 repeat in interleaved rounds, so background load hits all of them alike.
3. Lag: 3 workers running; one state change per transaction at a steady rate (200/s), each
   through ``record_webhook`` (rendered, signed, committed with its row); lag is the arrival
   time minus the time ``commit()`` returned.

Speed is reported as a ratio to the same round's baseline because the machines are noisy.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

import httpx
import orjson

from kassa import bootstrap
from kassa.bench.load import LoadResult, Prepared, run_load
from kassa.bench.scratch import free_port, scratch_database, stop
from kassa.config import Settings
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.project import Project
from kassa.domain.session import ApiVersion, PaymentSession, SessionDraft, SessionStatus
from kassa.service.outbox import WebhookType, record_webhook

PHASE_LIMIT = 180.0  # seconds any phase may take before the bench gives up


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


@dataclass(frozen=True, slots=True)
class LagRun:
    """Commit-to-arrival lags at a steady rate of state changes."""

    workers: int
    target_rate: float
    achieved_rate: float
    lags_ms: tuple[float, ...]

    def percentile(self, p: float) -> float:
        """Lag percentile in ms (nearest rank)."""
        ordered = sorted(self.lags_ms)
        rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))
        return ordered[rank]


@dataclass(frozen=True, slots=True)
class Round:
    """One interleaved round: the baseline, then 1 worker, then 3 workers."""

    raw: LoadResult
    one: ThroughputRun
    three: ThroughputRun


@dataclass(frozen=True, slots=True)
class WebhookBenchReport:
    """Everything one ``kassa bench webhooks`` run measured."""

    machine: str
    postgres: str
    rounds: tuple[Round, ...]
    lag: LagRun

    def markdown(self) -> str:
        """Tables for ``docs/benchmarks/webhooks.md``: rounds, medians, lag."""
        deliveries = self.rounds[0].one.deliveries
        lines = [
            f"{self.machine}; PostgreSQL {self.postgres}; {deliveries:,} webhooks per run.",
            "",
            (
                "| round | baseline: receiver raw (req/s) | 1 worker (deliveries/s) "
                "| 3 workers (deliveries/s) | 1 worker / baseline | 3 workers / baseline |"
            ),
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {n} | {r.raw.rate:,.0f} | {r.one.rate:,.0f} | {r.three.rate:,.0f} "
            f"| {r.one.rate / r.raw.rate:.2f} | {r.three.rate / r.raw.rate:.2f} |"
            for n, r in enumerate(self.rounds, 1)
        ]
        lines.append(
            f"| **median** | {median(r.raw.rate for r in self.rounds):,.0f} "
            f"| {median(r.one.rate for r in self.rounds):,.0f} "
            f"| {median(r.three.rate for r in self.rounds):,.0f} "
            f"| {median(r.one.rate / r.raw.rate for r in self.rounds):.2f} "
            f"| {median(r.three.rate / r.raw.rate for r in self.rounds):.2f} |",
        )
        lag = self.lag
        lines += [
            "",
            "| lag, commit to delivery | value |",
            "|---|---|",
            (
                f"| changes | {len(lag.lags_ms):,} at {lag.target_rate:,.0f}/s target, "
                f"{lag.achieved_rate:,.0f}/s achieved, {lag.workers} workers |"
            ),
            f"| p50 | {lag.percentile(50):.1f} ms |",
            f"| p99 | {lag.percentile(99):.1f} ms |",
            f"| max | {max(lag.lags_ms):.1f} ms |",
        ]
        return "\n".join(lines)


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


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} CPUs ({cpu}), {system}, Python {platform.python_version()}"


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
    url: str,
    workdir: Path,
    *,
    deliveries: int,
    rounds: int,
    rate: float,
    lag_seconds: float,
) -> WebhookBenchReport:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    procs = _Processes(workdir, url)
    container = await bootstrap.build(Settings(database_url=url, data_dir=workdir))
    try:
        version = (await container.store.driver.fetch("SHOW server_version"))[0][0]
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
        done = []
        for n in range(rounds):
            raw = await run_load(base, _prepared(deliveries, sample, signature), 64)
            seen += deliveries
            one = await _throughput(
                procs,
                producer,
                base,
                workers=1,
                label=f"ps_r{n}w1_",
                deliveries=deliveries,
                seen=seen,
            )
            seen += deliveries
            three = await _throughput(
                procs,
                producer,
                base,
                workers=3,
                label=f"ps_r{n}w3_",
                deliveries=deliveries,
                seen=seen,
            )
            seen += deliveries
            done.append(Round(raw, one, three))
        running = procs.workers(3)
        began = time.monotonic()
        committed = await producer.steady("ps_lag_", rate, lag_seconds)
        achieved = len(committed) / (time.monotonic() - began)
        arrived = await _arrivals(base, seen + len(committed))
        stop(running)
        lags = tuple((arrived[sid] - at) * 1000 for sid, at in committed.items())
        return WebhookBenchReport(
            machine=_machine(),
            postgres=str(version),
            rounds=tuple(done),
            lag=LagRun(3, rate, achieved, lags),
        )
    finally:
        procs.close()
        await container.close()


def bench_webhooks(
    database_url: str,
    *,
    deliveries: int = 4000,
    rounds: int = 3,
    rate: float = 200.0,
    lag_seconds: float = 10.0,
) -> WebhookBenchReport:
    """Run the whole benchmark on a scratch database beside ``database_url`` (PostgreSQL)."""
    with (
        tempfile.TemporaryDirectory(prefix="kassa-bench-wh-") as tmp,
        scratch_database(database_url, Path(tmp)) as url,
    ):
        return asyncio.run(
            _measure(
                url,
                Path(tmp),
                deliveries=deliveries,
                rounds=rounds,
                rate=rate,
                lag_seconds=lag_seconds,
            ),
        )
