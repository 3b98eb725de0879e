"""``kassa bench cpu``: CPU per ``session/create`` with the HTTP server and the load left out.

The wrk runs measure rates on two cores shared by the servers, PostgreSQL and wrk, so their
ratios swing with whatever else the machine does. This one counts instead of timing: kassa's
own ASGI app (``create_app``, as ``kassa serve`` builds it: fast path, validation,
idempotency, metrics, the JSON log line) and the bare-minimum app (``bench/bare.py``) are
called in this process, each with the same pre-signed requests, 32 at a time on uvloop, and
what is reported is the CPU each spent per request — this process's (``getrusage``: the
event loop and, on SQLite, the commit helper thread) and that of the PostgreSQL backends serving
its database (``/proc``; the server is on this machine). No HTTP parsing, no sockets to a
client: what is left is what the two apps do differently. The loads alternate in rounds, so
both meet the same machine.

It is not the rate goal, which ``kassa bench create`` measures over HTTP: there both
servers' costs per request grow (HTTP parsing, two API processes and twenty backends taking
turns on the cores), and kassa's more than the bare server's (docs/benchmarks/README.md has
both readings of the same code side by side). What this gives is a steadier reading of what
kassa's own Python and SQL cost, to tell whether a change to the hot path helped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import uvloop

from kassa.adapters.keys import public_pem
from kassa.api.app import create_app
from kassa.bench.procs import stat_cpu
from kassa.bench.report import Measure
from kassa.bench.signed import create_requests
from kassa.config import Settings
from kassa.logging import configure

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from starlette.types import ASGIApp, Message

    from kassa.bench.runner import Bench
    from kassa.bench.signed import Prepared

CONCURRENCY = 32
WARM = 300


def _ticks(stat: Path) -> float:
    """User + system CPU seconds from a ``/proc/…/stat`` file (0 once it is gone)."""
    return stat_cpu(stat) or 0.0


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _loop_thread_cpu() -> float:
    """CPU seconds of this thread (the event loop's)."""
    return _ticks(Path(f"/proc/self/task/{threading.get_native_id()}/stat"))


async def _backends(url: str) -> list[int]:
    """The pids of the PostgreSQL backends connected to ``url``'s database (not this probe)."""
    if not url.startswith("postgres"):
        return []
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return [int(r["pid"]) for r in rows]


def _backends_cpu(pids: Sequence[int]) -> dict[int, float]:
    return {pid: _ticks(Path(f"/proc/{pid}/stat")) for pid in pids}


async def _call(app: ASGIApp, prepared: Prepared) -> int:
    """One request through the ASGI app; its status."""
    body, sent = prepared.body, False
    headers = [(k.lower().encode(), v.encode()) for k, v in prepared.headers().items()]
    headers.append((b"content-length", str(len(body)).encode()))
    status = 0

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": prepared.method, "scheme": "http", "path": prepared.path,
        "raw_path": prepared.path.encode(), "query_string": b"", "root_path": "",
        "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    await app(scope, receive, send)
    return status


async def _drive(
    app: ASGIApp, prepared: Sequence[Prepared], seconds: float
) -> tuple[list[float], int, float]:
    """Send ``prepared`` 32 at a time until done or ``seconds`` pass: latencies, errors, time."""
    todo = iter(prepared)
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    stop_at = started + seconds

    async def one_at_a_time() -> None:
        nonlocal errors
        for request in todo:
            if time.perf_counter() > stop_at:
                return
            began = time.perf_counter()
            status = await _call(app, request)
            latencies.append((time.perf_counter() - began) * 1000)
            errors += status != 200  # noqa: PLR2004

    await asyncio.gather(*(one_at_a_time() for _ in range(CONCURRENCY)))
    return latencies, errors, time.perf_counter() - started


@contextlib.asynccontextmanager
async def _running(app: ASGIApp) -> Any:  # noqa: ANN401 - an async context manager
    """The app between its lifespan's start-up and shut-down."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}

    async def serve() -> None:
        await app(scope, inbox.get, outbox.put)

    task = asyncio.create_task(serve())
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        msg = f"app did not start: {started}"
        raise RuntimeError(msg)
    try:
        yield app
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


@dataclass(frozen=True, slots=True)
class Load:
    """One measured load of one app: the run, and its CPU per request (ms)."""

    measure: Measure
    own_ms: float  # this process, every thread
    loop_ms: float  # the event-loop thread alone
    pg_ms: float  # the PostgreSQL backends of the app's database

    @property
    def total_ms(self) -> float:
        """The app's and its database's CPU per request."""
        return self.own_ms + self.pg_ms


async def _load(
    make_app: Callable[[], ASGIApp], url: str, prepared: Sequence[Prepared], seconds: float
) -> Load:
    async with _running(make_app()) as app:
        await _drive(app, prepared[:WARM], seconds)
        before = _backends_cpu(await _backends(url))
        own, loop = _own_cpu(), _loop_thread_cpu()
        latencies, errors, elapsed = await _drive(app, prepared[WARM:], seconds)
        own = _own_cpu() - own
        loop = _loop_thread_cpu() - loop
        after = _backends_cpu(await _backends(url))  # a backend opened meanwhile counts whole
        pg = sum(after.values()) - sum(before.get(pid, 0.0) for pid in after)
    n = max(1, len(latencies))
    measure = Measure.of(latencies, requests=len(latencies), errors=errors, seconds=elapsed)
    return Load(measure, own * 1000 / n, loop * 1000 / n, pg * 1000 / n)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` meanwhile (the bare app reads its settings there)."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def cpu(bench: Bench) -> None:
    """The CPU per create of kassa and of the bare server, in-process, in alternating rounds."""
    from kassa.bench.bare import bare_app  # noqa: PLC0415 - reads its env when called

    project = bench.project()
    key = bench.workdir / "bare_public.pem"
    key.write_text(public_pem(project.key), encoding="ascii")
    settings = Settings.from_env(
        {"KASSA_DATABASE_URL": bench.url, "KASSA_DATA_DIR": str(bench.workdir)}, worker=False
    )
    count = WARM + min(12_000, max(1_000, bench.options.seconds * 800))
    rounds = 3 if bench.options.seconds >= 10 else 1  # noqa: PLR2004 - a smoke run: one
    env = {"KASSA_BARE_DATABASE_URL": bench.baseline_db, "KASSA_BARE_PUBLIC_KEY": str(key)}
    paired: list[tuple[float, Load, Load]] = []
    with (bench.workdir / "inproc-requests.log").open("wb") as log, _environment(env):
        configure(settings.log_level, json=settings.log_json, stream=log)  # lines off stdout
        try:
            for n in range(rounds):
                kassa = uvloop.run(
                    _load(
                        lambda: create_app(settings),
                        bench.url,
                        create_requests(project, count, f"k{n}"),
                        bench.options.seconds,
                    )
                )
                bare = uvloop.run(
                    _load(
                        bare_app,
                        bench.baseline_db,
                        create_requests(project, count, f"b{n}"),
                        bench.options.seconds,
                    )
                )
                paired.append(
                    (kassa.total_ms / bare.total_ms if bare.total_ms else 0.0, kassa, bare)
                )
                bench.report.figures[f"round {n + 1}: kassa / bare CPU per create"] = paired[-1][0]
        finally:
            configure(settings.log_level, json=settings.log_json)
    _report(bench, paired)


def _report(bench: Bench, paired: list[tuple[float, Load, Load]]) -> None:
    ratio, kassa, bare = sorted(paired, key=lambda p: p[0])[len(paired) // 2]
    report = bench.report
    report.results["kassa session/create, in-process"] = kassa.measure
    report.baselines["bare minimum, in-process"] = bare.measure
    figures = {
        "kassa CPU ms per create: this process": kassa.own_ms,
        "kassa CPU ms per create: its event-loop thread": kassa.loop_ms,
        "kassa CPU ms per create: PostgreSQL backends": kassa.pg_ms,
        "bare minimum CPU ms per create: this process": bare.own_ms,
        "bare minimum CPU ms per create: PostgreSQL backends": bare.pg_ms,
        "kassa / bare CPU per create (median round)": ratio,
        "kassa CPU per create, spread of the rounds (max - min, ms)": (
            max(p[1].total_ms for p in paired) - min(p[1].total_ms for p in paired)
        ),
    }
    report.figures.update(figures)
    report.notes.append(
        "in-process: both apps called through ASGI in this process, 32 requests at a time on "
        "uvloop, without HTTP parsing; CPU from getrusage (this process, every thread) and "
        "/proc (the PostgreSQL backends of each app's database). kassa's request log lines "
        "went to a file, as under `kassa serve` with its output redirected. kassa's CPU per "
        f"create over the rounds: median {statistics.median(p[1].total_ms for p in paired):.3f}"
        " ms"
    )
