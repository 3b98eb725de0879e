"""What every scenario shares: a scratch database, kassa's processes, loads, samples.

A scenario (``bench/scenarios.py``) is a function of a ``Bench``: it starts what it needs
through it, measures, and fills the ``Report``. Everything it starts is stopped at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kassa.adapters.keys import ServerKey, private_pem
from kassa.bench import pgbouncer
from kassa.bench import profile as profiling
from kassa.bench.procs import (
    busiest,
    kassa_env,
    kassa_serve,
    kassa_worker,
    log_tail,
    spawn,
    stop,
    usage,
)
from kassa.bench.scratch import free_port, scratch_database
from kassa.bench.signed import BenchProject, add_project
from kassa.bench.wrk import WrkOptions, run_wrk

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from kassa.bench.report import Measure, Report
    from kassa.bench.signed import Prepared
    from kassa.domain.project import ProjectSettings


@dataclass(frozen=True, slots=True)
class Options:
    """What ``kassa bench SCENARIO`` was asked for."""

    database_url: str
    baseline_url: str  # a PostgreSQL for the bare-minimum server and pgbench
    seconds: int = 15
    connections: int = 32
    rate: float = 1000.0
    workers: int = 2
    sessions: int = 0  # sessions seeded before measuring (0: none)
    requests: int = 1_000_000  # soak: requests sent before the last RSS sample
    localstripe: str | None = None  # create: a localstripe executable to compare with
    pgbouncer: bool = False  # kassa's processes reach the database through pgbouncer (transaction)
    profile: bool = False  # py-spy one API process during the measured kassa loads


@dataclass
class Bench:
    """One run: the scratch database, the work folder, and what is running."""

    options: Options
    url: str
    workdir: Path
    report: Report
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def sqlite(self) -> bool:
        """True on SQLite (one API process)."""
        return self.url.startswith("sqlite")

    def project(
        self, settings: ProjectSettings | None = None, hooks: int | None = None
    ) -> BenchProject:
        """A project; ``hooks`` a local receiver port its webhooks go to."""
        url = None if hooks is None else f"http://127.0.0.1:{hooks}/hook"
        return asyncio.run(add_project(self.url, settings, url))

    def start_kassa(self, *, worker: bool, **env: str) -> str:
        """``kassa serve`` (N API processes; 1 on SQLite) and, if asked, a ``kassa worker``."""
        port = free_port()
        environ = kassa_env(self.kassa_url or self.url, self.workdir, port, **env)
        workers = 1 if self.sqlite else self.options.workers
        server = kassa_serve(environ, port, workers=workers)
        self.procs.append(server)
        self.server_pid = server.pid
        if worker:
            self.procs.append(kassa_worker(environ))
        return f"http://127.0.0.1:{port}"

    def process_report(self, lines: int = 5) -> list[str]:
        """What the processes of this run did: exit codes by pid, their logs' last lines."""
        codes = {p.pid: p.poll() for p in self.procs}
        report = [f"exit codes by pid (None: still running): {codes}"]
        for log in sorted(self.workdir.glob("*.log")):
            report += [f"{log.name}: {line}" for line in log_tail(log, lines)]
        return report

    def stop_all(self) -> None:
        """Stop every process this run started."""
        stop(self.procs)
        self.procs.clear()

    def wrk(
        self,
        base: str,
        prepared: Sequence[Prepared],
        seconds: int | None = None,
        *,
        profile: str | None = None,
        rate: float = 0.0,
    ) -> Measure:
        """A closed-loop load with wrk (2 threads), sampling the server's RSS and CPU.

        ``profile`` (a label): with ``--profile``, py-spy samples one API process meanwhile.
        ``rate`` > 0: the connections pace themselves to about that many requests a second.
        """
        seconds = seconds or self.options.seconds
        connections = self.options.connections
        if rate > 0:  # pauses ≥ 200 ms, so the answers' latency barely slows the pace
            connections = max(connections, int(rate // 5))
        options = WrkOptions(2, connections, seconds, rate)
        before = None if self.server_pid is None else usage(self.server_pid)
        with self.profiled(profile, options.seconds), self.sampled() as samples:
            try:
                measured = run_wrk(base, prepared, options)
            except RuntimeError as exc:  # say what the servers said before they went away
                msg = f"{exc} (at {base}) {self.process_report(8)}"
                raise RuntimeError(msg) from exc
        self.note_usage(samples)
        if before is not None and self.server_pid is not None and measured.requests:
            spent = usage(self.server_pid).cpu_seconds - before.cpu_seconds
            self.cpu_ms_per_request = spent * 1000 / measured.requests
        return measured

    @contextlib.contextmanager
    def profiled(self, label: str | None, seconds: int) -> Iterator[None]:
        """With ``--profile`` and a ``label``: py-spy samples one API process meanwhile.

        The process is the busiest of the server's tree (a request-serving worker); the
        summary goes into the report's notes once the block is done.
        """
        if label is None or not self.options.profile or self.server_pid is None:
            yield
            return
        out = self.workdir / f"profile-{time.monotonic_ns()}.txt"
        spy = profiling.start(busiest(self.server_pid), max(1, seconds - 1), out)
        yield
        profiling.add_to_report(self.report, label, spy, out)

    @contextlib.contextmanager
    def sampled(self) -> Iterator[list[tuple[float, tuple[float, ...], float]]]:
        """Samples of (time, RSS per process, CPU seconds) of the API server, every 2 s."""
        samples: list[tuple[float, tuple[float, ...], float]] = []
        done = threading.Event()
        pid = getattr(self, "server_pid", None)

        def sample() -> None:
            while pid is not None and not done.is_set():
                now = usage(pid)
                samples.append((time.monotonic(), now.rss_mb, now.cpu_seconds))
                done.wait(2.0)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield samples
        finally:
            done.set()
            thread.join()

    def note_usage(self, samples: list[tuple[float, tuple[float, ...], float]]) -> None:
        """Peak RSS per API process, RSS growth over the run, CPU used."""
        if len(samples) < 2:  # noqa: PLR2004
            return
        (t0, rss0, cpu0), (t1, rss1, cpu1) = samples[0], samples[-1]
        processes = rss1[1:] if len(rss1) > 1 else rss1  # the supervisor holds no requests
        peak = max(max(s[1][1:] or s[1]) for s in samples)
        figures = self.report.figures
        figures["server RSS MB per API process (peak)"] = peak
        figures["server RSS MB, last sample, summed"] = sum(processes)
        first = sum(rss0[1:] or rss0)
        figures["server RSS growth MB over the run"] = sum(processes) - first
        figures["server CPU cores busy (average)"] = (cpu1 - cpu0) / max(t1 - t0, 1e-9)

    def flows(self, spec: dict[str, Any], profile: str | None = None) -> dict[str, Any]:
        """Run the flow driver (``bench/flows.py``) in its own process; its JSON result.

        ``profile`` (a label): with ``--profile``, py-spy samples one API process meanwhile.
        """
        path = self.workdir / f"spec-{time.monotonic_ns()}.json"
        path.write_text(json.dumps(spec), encoding="utf-8")
        with self.profiled(profile, int(spec["seconds"])), self.sampled() as samples:
            done = subprocess.run(  # noqa: S603 - our own driver
                [sys.executable, "-m", "kassa.bench.flows", str(path)],
                capture_output=True,
                text=True,
                check=False,
                timeout=float(spec["seconds"]) + 600,
            )
        self.note_usage(samples)
        if done.returncode != 0:
            msg = f"flow driver failed: {done.stderr[-1500:]}"
            raise RuntimeError(msg)
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    def flow_spec(
        self,
        project: BenchProject,
        base: str,
        port: int,
        **extra: Any,  # noqa: ANN401 - JSON
    ) -> dict[str, Any]:
        """The driver's spec: where, as whom, the server key, the receiver port."""
        key = self.workdir / f"{project.id}.pem"
        key.write_bytes(private_pem(project.key))
        server = ServerKey(self.workdir / "keys" / "server_private.pem")
        public = self.workdir / "server_public.pem"
        public.write_text(server.public_pem, encoding="ascii")
        return {
            "base_url": base,
            "project": project.id,
            "key": str(key),
            "server_key": str(public),
            "receiver_port": port,
            "seconds": self.options.seconds,
            "concurrency": self.options.connections,
            **extra,
        }

    def spawn_bare(self, public_pem: str) -> str:
        """The bare-minimum baseline (``bench/bare.py``), as many processes as kassa's.

        On SQLite kassa is one process (one writer), so the baseline is one process too.
        """
        key = self.workdir / "bare_public.pem"
        key.write_text(public_pem, encoding="ascii")
        port = free_port()
        env = {
            **os.environ,
            "KASSA_BARE_DATABASE_URL": self.baseline_db,
            "KASSA_BARE_PUBLIC_KEY": str(key),
        }
        processes = 1 if self.sqlite else self.options.workers
        args = [
            sys.executable, "-m", "uvicorn", "kassa.bench.bare:bare_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(processes),
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        log = self.workdir / f"bare-{port}.log"
        proc = spawn(args, env, f"http://127.0.0.1:{port}/healthz", log=log)
        self.procs.append(proc)
        self.server_pid = proc.pid
        return f"http://127.0.0.1:{port}"

    baseline_db: str = ""
    kassa_url: str = ""  # the database as kassa's processes reach it (through pgbouncer)
    server_pid: int | None = None
    cpu_ms_per_request: float = 0.0  # the server's CPU per request in the last wrk run


def measure(report: Report, options: Options, scenario: Any) -> Report:  # noqa: ANN401
    """Run ``scenario(bench)`` on a scratch database (and a scratch baseline PostgreSQL)."""
    with (
        tempfile.TemporaryDirectory(prefix="kassa-bench-") as tmp,
        scratch_database(options.database_url, Path(tmp)) as url,
        scratch_database(options.baseline_url, Path(tmp) / "baseline") as baseline,
    ):
        (Path(tmp) / "baseline").mkdir(exist_ok=True)
        bench = Bench(options, url, Path(tmp), report)
        bench.baseline_db = baseline
        with contextlib.ExitStack() as stack:
            if options.pgbouncer and not bench.sqlite:
                bouncer = stack.enter_context(pgbouncer.running(url))
                bench.kassa_url = bouncer.url(url)
                stack.callback(_note_pgbouncer, report, bouncer, url)
            try:
                scenario(bench)
            finally:
                bench.stop_all()
    return report


def _note_pgbouncer(report: Report, bouncer: pgbouncer.Pgbouncer, url: str) -> None:
    report.figures["pgbouncer: transactions passed to the database"] = bouncer.transactions(
        url.rsplit("/", 1)[1]
    )
    report.notes.append(
        "kassa's processes reached PostgreSQL through Debian's pgbouncer in transaction mode "
        "(`?pgbouncer=1`: asyncpg statement_cache_size=0); baselines and pgbench went direct."
    )
