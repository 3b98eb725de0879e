"""The stack the crash and fault tests run: kassa serve, kassa worker, a receiver, the load.

``Stack`` starts ``kassa serve`` (no in-process worker) and a separate ``kassa worker`` on one
database with shrunk recovery, lease and retry times, three projects (auto-confirm off, on,
two-step capture) whose webhooks go to a real receiver, and a funded payout wallet. ``Load``
is the driver process (``tests/reliability_load.py``) and its request log. ``audit`` then
checks what the issue asks (answers in the database, nothing twice, nothing half-applied,
every webhook delivered, the ledger and the processor's own record) and returns the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization

from kassa.adapters.clock import SystemClock
from kassa.bootstrap import open_store
from kassa.domain.money import Money
from kassa.domain.project import ProjectSettings
from kassa.service.wallet import topup
from testkit import KassaServer, ProjectHandle, SignedClient, create_project, kassa_cli, raw_driver
from webhook_receiver import Receiver

TESTS = Path(__file__).parent
SHRUNK = {
    "KASSA_WORKER": "0",
    "KASSA_ALLOW_PRIVATE_WEBHOOKS": "1",  # the receiver is on 127.0.0.1
    "KASSA_RECOVERY_AFTER_SECONDS": "2",
    "KASSA_IDEMPOTENCY_LEASE_SECONDS": "3",
    "KASSA_WEBHOOK_FIRST_DELAY_SECONDS": "0.2",
    "KASSA_WEBHOOK_MAX_INTERVAL_SECONDS": "1",
    "KASSA_WEBHOOK_TIMEOUT_SECONDS": "2",
    "KASSA_WEBHOOK_GIVE_UP_SECONDS": "3600",
    "KASSA_WORKER_LEASE_SECONDS": "3",
    "KASSA_WORKER_POLL_SECONDS": "0.05",
    "KASSA_LOG_LEVEL": "warning",
}
PROJECTS = {
    "plain": ProjectSettings(),
    "auto": ProjectSettings(auto_confirm=True),
    "two_step": ProjectSettings(two_step_capture=True),
}
WALLET = 10_000_000  # minor units: more than the load can pay out


class WorkerProcess:
    """``kassa worker`` as a subprocess (webhook delivery, timeouts, the recovery sweeper)."""

    def __init__(self, database_url: str, data_dir: Path, env: dict[str, str]) -> None:
        """Prepare (not start) a worker like ``KassaServer``."""
        self.env = {
            **os.environ,
            "KASSA_DATABASE_URL": database_url,
            "KASSA_DATA_DIR": str(data_dir),
            **env,
        }
        self.log_path = data_dir / "worker.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        """Start it (it has no readiness probe: it claims as soon as it is up)."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kassa", "worker"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def stop(self) -> None:
        """SIGTERM, then kill."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@dataclass
class Stack:
    """Server, worker, receiver and projects over one database."""

    database_url: str
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    receiver: Receiver = field(default_factory=Receiver)
    projects: dict[str, ProjectHandle] = field(default_factory=dict)
    server: KassaServer | None = None
    worker: WorkerProcess | None = None

    async def start(self) -> Stack:
        """Projects (keys under ``data_dir``), a funded wallet, then the two processes."""
        # A worker killed mid-delivery leaves the receiver writing to a closed socket: expected
        # here, so not printed (the delivery is retried and counted as a duplicate).
        self.receiver.server.handle_error = lambda *_: None  # type: ignore[method-assign]
        for name, settings in PROJECTS.items():
            self.projects[name] = await create_project(
                self.database_url,
                name=name,
                webhook_url=self.receiver.url(name),
                settings=settings,
            )
        store = await open_store(self.database_url)
        try:
            await topup(store, SystemClock(), self.projects["plain"].id, Money(WALLET, "usd"))
        finally:
            await store.close()
        env = {**SHRUNK, **self.env}
        self.server = KassaServer(self.database_url, self.data_dir, **env)
        await asyncio.to_thread(self.server.start)
        self.worker = WorkerProcess(self.database_url, self.data_dir, env).start()
        return self

    def key_files(self) -> dict[str, tuple[str, str]]:
        """Project name → (id, path of its private key PEM) for the driver."""
        files = {}
        for name, handle in self.projects.items():
            path = self.data_dir / f"{name}.pem"
            path.write_bytes(
                handle.key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            path.chmod(0o600)
            files[name] = (handle.id, str(path))
        return files

    def stop(self) -> None:
        """Stop everything (also after a failure)."""
        for proc in (self.worker, self.server):
            if proc is not None:
                proc.stop()
        self.receiver.stop()


@dataclass
class Load:
    """The driver process and its request log."""

    stack: Stack
    seed: int
    seconds: float
    max_requests: int
    concurrency: int = 4
    pause: float = 0.2
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        """Where every request and answer goes (JSON lines)."""
        return self.stack.data_dir / f"requests-{self.seed}.jsonl"

    @property
    def stop_file(self) -> Path:
        """Created by the test when the load has lasted long enough."""
        return self.stack.data_dir / f"stop-{self.seed}"

    def finish(self) -> None:
        """Tell the driver to start no more chains (it finishes the ones it is in)."""
        self.stop_file.touch()

    def start(self) -> Load:
        """Start the driver (it stops by itself)."""
        assert self.stack.server is not None
        config = {
            "base_url": self.stack.server.base_url,
            "seed": self.seed,
            "run": f"r{self.seed}",
            "seconds": self.seconds,
            "max_requests": self.max_requests,
            "concurrency": self.concurrency,
            "pause": self.pause,
            "retry_seconds": 90,
            "log": str(self.log_path),
            "stop_file": str(self.stop_file),
            "projects": self.stack.key_files(),
        }
        path = self.stack.data_dir / "load.json"
        path.write_bytes(orjson.dumps(config))
        self.proc = subprocess.Popen(
            [sys.executable, str(TESTS / "reliability_load.py"), str(path)],
            env={**os.environ, "PYTHONPATH": str(TESTS)},
        )
        return self

    def running(self) -> bool:
        """Is the driver still sending?"""
        return self.proc is not None and self.proc.poll() is None

    async def wait(self, timeout: float) -> int:
        """Wait for the driver's exit code."""
        assert self.proc is not None
        return await asyncio.to_thread(self.proc.wait, timeout)

    def stop(self) -> None:
        """Kill a driver still running (after a failure)."""
        if self.running():
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(5)

    def lines(self) -> list[dict[str, Any]]:
        """Every line of the request log."""
        text = self.log_path.read_bytes() if self.log_path.exists() else b""
        return [orjson.loads(line) for line in text.splitlines() if line.strip()]

    def reproducer(self) -> str:
        """What to print when a check fails."""
        return f"seed={self.seed} request log={self.log_path}"


async def _rows(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    driver = await raw_driver(database_url)
    try:
        return await driver.fetch(sql)
    finally:
        await driver.close()


async def settled(stack: Stack, timeout: float = 60.0) -> None:
    """Wait until no webhook is pending and no operation in progress (the worker swept)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = await _rows(stack.database_url, "SELECT id FROM outbox WHERE status = 'pending'")
        busy = await _rows(
            stack.database_url, "SELECT id FROM sessions WHERE doc LIKE '%\"in_progress\"%'"
        )
        if not pending and not busy:
            return
        await asyncio.sleep(0.25)


async def _undelivered(stack: Stack) -> list[tuple[Any, ...]]:
    """Outbox rows (committed state changes) whose exact bytes never reached the receiver."""
    outbox = await _rows(stack.database_url, "SELECT id, body FROM outbox ORDER BY id")
    with stack.receiver._lock:
        received = {r.body for r in stack.receiver.received}
    return [r for r in outbox if bytes(r[1]) not in received]


def _operations(session: dict[str, Any]) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for payment in session.get("acquiring_payments", []):
        ops += [payment, *payment.get("refunds", [])]
    ops += session.get("payments", [])  # v1 payouts
    return ops


def _final_answers(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Session id → the session in the last ok answer about it."""
    last: dict[str, dict[str, Any]] = {}
    for line in sorted((x for x in lines if x.get("outcome") == "ok"), key=lambda x: x["t"]):
        last[line["session"]["id"]] = line["session"]
    return last


async def _final_sessions(stack: Stack, owners: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every session as ``session/status`` answers now, asked as its own project."""
    assert stack.server is not None
    found: dict[str, dict[str, Any]] = {}
    for handle in stack.projects.values():
        client = SignedClient(stack.server.base_url, handle)
        try:
            for sid in (sid for sid, owner in owners.items() if owner == handle.id):
                answer = await client.ok("session/status", {"session_id": sid})
                found[sid] = answer["session"]
        finally:
            await client.aclose()
    return found


async def audit(stack: Stack, load: Load) -> dict[str, int]:
    """Every check of issue 14 §1 over the database, the receiver and the request log."""
    lines = load.lines()
    where = load.reproducer()
    summary = next((x["summary"] for x in reversed(lines) if "summary" in x), None)
    assert summary is not None, f"the driver wrote no summary; {where}"
    assert summary.get("gave_up", 0) == 0, (summary, where)
    wrong = [x for x in lines if x.get("outcome") in {"error", "not_json"}]
    assert not wrong, (wrong[:3], where)
    await settled(stack)
    url = stack.database_url
    owners = {str(r[0]): str(r[1]) for r in await _rows(url, "SELECT id, project_id FROM sessions")}
    answered = _final_answers(lines)
    # Every session in the database came from one ok answer; none was made twice by a retry.
    first_steps = [
        x for x in lines
        if x.get("outcome") == "ok" and x["method"] in {
            "session/create", "session/init/payment", "session/init/payout"}
    ]  # fmt: skip
    by_key = Counter(x["key"] for x in first_steps)
    created = {x["session"]["id"] for x in first_steps}
    assert max(by_key.values(), default=1) == 1, (by_key.most_common(3), where)
    unanswered = set(owners) - created  # in the database, never acknowledged: made twice?
    absent = created - set(owners)  # acknowledged, not in the database: lost
    assert not unanswered, (sorted(unanswered)[:5], where)
    final = await _final_sessions(stack, owners)
    # What the last ok answer said is what the database holds.
    changed_since = [sid for sid, session in final.items() if session != answered[sid]]
    missing = [r[0] for r in await _undelivered(stack)]
    lost = len(absent) + len(changed_since) + len(missing)
    assert lost == 0, (sorted(absent)[:3], changed_since[:3], missing[:3], where)
    ops: dict[str, dict[str, Any]] = {}
    for sid, session in final.items():
        for op in _operations(session):
            assert op["status"] != "in_progress", (sid, op, where)
            ops[op["id"]] = op
    ok_steps = Counter((x["session"]["id"], x["method"]) for x in lines if x.get("outcome") == "ok")
    for (sid, method), times in ok_steps.items():
        assert times == 1, (sid, method, times, where)  # one key per step, answered once
        if method == "session/refund":
            [payment] = final[sid]["acquiring_payments"]
            assert len(payment["refunds"]) == 1, (sid, payment, where)
    for sid, session in final.items():
        payments = session.get("acquiring_payments", []) + session.get("payments", [])
        assert len(payments) <= 1, (sid, session, where)  # no retried init paid twice
    # The processor's own record: one call per operation and kind, for known operations only.
    calls = await _rows(url, "SELECT operation_id, kind, amount FROM processor_calls")
    per_op_kind = Counter((str(c[0]), str(c[1])) for c in calls)
    assert max(per_op_kind.values(), default=1) == 1, (per_op_kind.most_common(3), where)
    called = {str(c[0]) for c in calls}
    assert called <= set(ops), (sorted(called - set(ops))[:5], where)
    assert called == set(ops), (sorted(set(ops) - called)[:5], where)
    for op_id, kind, amount in calls:
        del kind
        assert int(amount) == ops[str(op_id)]["amount_details"]["amount"], (op_id, where)
    running = await _rows(url, "SELECT key FROM idempotency_keys WHERE state <> 'done'")
    assert not running, (running[:5], where)
    # Webhooks: every outbox row delivered and received; the last one of a session is its state.
    outbox = await _rows(url, "SELECT id, session_id, status, body FROM outbox ORDER BY id")
    assert all(r[2] == "delivered" for r in outbox), (
        [r[:3] for r in outbox if r[2] != "delivered"][:5],
        where,
    )
    with stack.receiver._lock:
        received = Counter(r.body for r in stack.receiver.received)
    last_hook: dict[str, bytes] = {str(r[1]): bytes(r[3]) for r in outbox}
    for sid, body in last_hook.items():
        assert orjson.loads(body)["session"] == final[sid], (sid, where)
    changed = [sid for sid, s in final.items() if _operations(s)]
    assert set(changed) <= set(last_hook), (sorted(set(changed) - set(last_hook))[:5], where)
    ledger = kassa_cli("ledger", "check", env={"KASSA_DATABASE_URL": url}, check=False)
    assert ledger.returncode == 0, (ledger.stdout, ledger.stderr, where)
    return {
        "requests": int(summary.get("requests", 0)),
        "ok answers": int(summary.get("ok", 0)),
        "retries": int(summary.get("retries", 0)),
        "retried requests": int(summary.get("retried_requests", 0)),
        "500s seen": int(summary.get("internal_errors", 0)),
        "transport errors (server down or cut)": int(summary.get("transport_errors", 0)),
        "key in flight (Retry-After)": int(summary.get("in_flight", 0)),
        "sessions": len(final),
        "operations": len(ops),
        "processor calls": len(calls),
        "webhooks": len(outbox),
        "webhook duplicates seen": sum(received.values()) - len(received),
        "wrong answers": len(wrong),
        "lost": lost,
    }


@contextlib.contextmanager
def cleanup(stack: Stack, load: Load | None = None) -> Any:
    """Stop the load and the stack whatever happens."""
    try:
        yield
    finally:
        if load is not None:
            load.stop()
        stack.stop()
