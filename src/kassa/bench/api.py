"""``kassa bench api``: signed ``session/create`` throughput against same-run baselines.

Three numbers from one run on one machine, so the ratios survive a noisy box:
1. kassa: pre-signed, unique ``session/create`` requests (with idempotency keys) against a real
   ``kassa serve`` process (no in-process worker), through the full path: body cap, project
   lookup, RSA verify, pydantic, idempotency claim, one transaction, stored reply.
2. HTTP baseline: the same uvicorn + FastAPI stack answering a constant (``bench/hello.py``).
3. Database baseline (PostgreSQL only): ``pgbench`` running the same writes kassa commits per
   request (idempotency insert, session insert, idempotency completion) in one transaction.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import orjson

from kassa.adapters.keys import generate_private_key, public_pem, sign
from kassa.bench.load import LoadResult, Prepared, run_load
from kassa.bench.scratch import free_port, scratch_database, stop
from kassa.bootstrap import open_store
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.project import Project

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True, slots=True)
class ApiBenchReport:
    """Figures of one ``kassa bench api`` run."""

    database: str
    concurrency: int
    kassa: LoadResult
    hello: LoadResult
    pgbench_tps: float | None

    def markdown(self) -> str:
        """A table for ``docs/benchmarks/``."""
        lines = [
            f"| database | {self.database} |",
            "|---|---|",
            f"| concurrency | {self.concurrency} connections |",
            (
                f"| kassa session/create | {self.kassa.rate:,.0f} req/s, p50 "
                f"{self.kassa.percentile(50):.1f} ms, p99 {self.kassa.percentile(99):.1f} ms, "
                f"{self.kassa.errors} errors of {self.kassa.requests} |"
            ),
            f"| HTTP baseline (same stack, constant reply) | {self.hello.rate:,.0f} req/s |",
            f"| kassa / HTTP baseline | {self.kassa.rate / self.hello.rate:.2f} |",
        ]
        if self.pgbench_tps is not None:
            lines += [
                f"| pgbench, same writes per transaction | {self.pgbench_tps:,.0f} tx/s |",
                f"| kassa / pgbench | {self.kassa.rate / self.pgbench_tps:.2f} |",
            ]
        return "\n".join(lines)


def _wait_healthy(base_url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = "benchmark server exited early"
            raise RuntimeError(msg)
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code < 500:  # noqa: PLR2004
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    msg = "benchmark server did not start"
    raise RuntimeError(msg)


def _serve(args: list[str], env: dict[str, str], health: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        _wait_healthy(health, proc)
    except Exception:
        proc.kill()
        raise
    return proc


def _bodies(project_id: str, key: rsa.RSAPrivateKey, count: int) -> list[Prepared]:
    out = []
    for i in range(count):
        body = orjson.dumps(
            {"amount_details": {"amount": 1000 + i, "currency": "usd"}, "metadata": f"b{i}"},
        )
        out.append(
            Prepared(
                "/api/v1/session/create",
                body,
                {
                    "Content-Type": "application/json",
                    "X-PARTNER-PROJECT": project_id,
                    "X-PARTNER-SIGN": sign(body, key),
                    "X-PARTNER-IDEMPOTENCY-KEY": f"bench-{i}",
                },
            ),
        )
    return out


async def _project(database_url: str, key: rsa.RSAPrivateKey) -> str:
    from datetime import UTC, datetime  # noqa: PLC0415

    project = Project(
        id=new_id(IdPrefix.PROJECT),
        name="bench",
        public_keys=(public_pem(key),),
        created_at=datetime.now(UTC),
    )
    store = await open_store(database_url)
    try:
        await store.add_project(project)
    finally:
        await store.close()
    return project.id


_PGBENCH_SCRIPT = """\
\\set n random(1, 4000000000000000000)
BEGIN;
INSERT INTO idempotency_keys (project_id, key, fingerprint, owner, lease_until, state, created_at, expires_at) VALUES ('@PROJECT@', 'k' || :client_id || '-' || :n, 'f', 'o', 0, 'running', 0, 0) ON CONFLICT (project_id, key) DO NOTHING;
INSERT INTO sessions (id, project_id, status, api_version, version, created_at, updated_at, deadline_at, doc) VALUES ('ps_' || :client_id || '-' || :n, '@PROJECT@', 'created', 'v1', 0, 0, 0, NULL, '{"draft":{"amount":{"amount":1000,"currency":"usd"}}}') ON CONFLICT (id) DO NOTHING;
UPDATE idempotency_keys SET state = 'done', response_status = 200, response_body = '\\x7b7d' WHERE project_id = '@PROJECT@' AND key = 'k' || :client_id || '-' || :n;
COMMIT;
"""  # noqa: E501 - SQL for pgbench, one statement per line


def _pgbench(database_url: str, project_id: str, clients: int, seconds: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as fh:
        fh.write(_PGBENCH_SCRIPT.replace("@PROJECT@", project_id))
        script = fh.name
    try:
        done = subprocess.run(  # noqa: S603
            [
                shutil.which("pgbench") or "pgbench",
                "-n",
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(seconds),
                "-f",
                script,
                database_url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        Path(script).unlink()
    if done.returncode != 0:
        msg = f"pgbench failed: {done.stderr[-800:]}"
        raise RuntimeError(msg)
    for line in done.stdout.splitlines():
        if line.startswith("tps ="):
            return float(line.split()[2])
    msg = f"pgbench printed no tps: {done.stdout[-500:]}"
    raise RuntimeError(msg)


def bench_api(database_url: str, requests: int, concurrency: int) -> ApiBenchReport:
    """Run the three measurements against a scratch database next to ``database_url``."""
    with (
        tempfile.TemporaryDirectory(prefix="kassa-bench-") as tmp,
        scratch_database(database_url, Path(tmp)) as url,
    ):
        workdir = Path(tmp)
        key = generate_private_key()
        project_id = asyncio.run(_project(url, key))
        bodies = _bodies(project_id, key, requests + 200)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "KASSA_DATABASE_URL": url,
            "KASSA_DATA_DIR": str(workdir),
            "KASSA_PORT": str(port),
            "KASSA_WORKER": "0",
            "KASSA_LOG_LEVEL": "warning",
        }
        server = _serve([sys.executable, "-m", "kassa", "serve", "--no-worker"], env, base)
        try:
            asyncio.run(run_load(base, bodies[:200], concurrency))  # warm-up
            kassa = asyncio.run(run_load(base, bodies[200:], concurrency))
        finally:
            stop([server])
        hello_port = free_port()
        hello = _serve(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "kassa.bench.hello:hello_app",
                "--factory",
                "--port",
                str(hello_port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            dict(os.environ),
            f"http://127.0.0.1:{hello_port}",
        )
        try:
            hello_base = f"http://127.0.0.1:{hello_port}"
            asyncio.run(run_load(hello_base, bodies[:200], concurrency))
            baseline = asyncio.run(run_load(hello_base, bodies[200:], concurrency))
        finally:
            stop([hello])
        tps = None
        if not url.startswith("sqlite"):
            tps = _pgbench(url, project_id, concurrency, max(5, round(kassa.seconds)))
        return ApiBenchReport(
            database="SQLite" if url.startswith("sqlite") else "PostgreSQL",
            concurrency=concurrency,
            kassa=kassa,
            hello=baseline,
            pgbench_tps=tps,
        )
