"""Webhook test kit: a verifying receiver, ``kassa worker`` processes, and outbox rows.

- ``Receiver``: a small aiohttp app on 127.0.0.1 that checks every ``X-PARTNER-SIGN`` against
  the server public key (the PEM ``kassa server-key`` prints) and records what it got; an
  ``answer`` coroutine decides each reply (status, delay, hold), ``reply`` its text.
- ``WorkerProcess``: ``kassa worker`` as a real subprocess with shrunk timings (``FAST``).
- ``enqueue``: outbox rows written exactly as a state change writes them
  (``service/outbox.py:record_webhook`` through a real unit of work, signed with the server
  key of ``data_dir``), one transaction per event.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

import orjson
from aiohttp import web

from kassa import bootstrap
from kassa.adapters.keys import verify_any
from kassa.config import Settings
from kassa.domain.session import ApiVersion, PaymentSession, SessionDraft, SessionStatus
from kassa.service.outbox import WebhookType, record_webhook
from testkit import free_port, kassa_cli

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable
    from pathlib import Path

    from kassa.service.ports.delivery import DeliveryView

# Shrunk timings for tests: 20 ms polls, retries from 50 ms, 1 s timeout, 2 s lease.
FAST = {
    "KASSA_WORKER_POLL_SECONDS": "0.02",
    "KASSA_WEBHOOK_FIRST_DELAY_SECONDS": "0.05",
    "KASSA_WEBHOOK_MAX_INTERVAL_SECONDS": "0.2",
    "KASSA_WEBHOOK_TIMEOUT_SECONDS": "1",
    "KASSA_WORKER_LEASE_SECONDS": "2",
    "KASSA_WEBHOOK_GIVE_UP_SECONDS": "30",
    "KASSA_LOG_LEVEL": "info",
    "KASSA_ALLOW_PRIVATE_WEBHOOKS": "1",  # the receivers listen on 127.0.0.1
}

# Four webhook types queued for one session in this order; tests check they arrive so.
FLOW = [
    WebhookType.ACTION_REQUIRED,
    WebhookType.READY_TO_CONFIRM,
    WebhookType.READY_TO_CAPTURE,
    WebhookType.PAYMENT_FINISHED,
]


@dataclass(frozen=True, slots=True)
class Received:
    """One request the receiver got."""

    type: str
    session_id: str
    seq: str  # the session's ``metadata``: which event this is
    body: bytes
    signature_ok: bool
    content_type: str
    number: int  # arrival order at the receiver, from 0


async def answer_ok(_got: Received) -> int:
    """Reply 200 at once."""
    return 200


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that verifies signatures with the server public key."""

    server_public_pem: str
    answer: Callable[[Received], Awaitable[int]] = answer_ok
    reply: Callable[[Received, int], str] | None = None  # the answer's text; default names it
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    answered: list[tuple[Received, int]] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The webhook URL to register."""
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        data = orjson.loads(body)
        got = Received(
            type=data["type"],
            session_id=data["session"]["id"],
            seq=str(data["session"].get("metadata")),
            body=body,
            signature_ok=verify_any(
                body,
                request.headers.get("X-PARTNER-SIGN", ""),
                [self.server_public_pem],
            ),
            content_type=request.headers.get("Content-Type", ""),
            number=len(self.received),
        )
        self.received.append(got)
        status = await self.answer(got)
        self.answered.append((got, status))
        text = f"answer {status} to {got.type}" if self.reply is None else self.reply(got, status)
        return web.Response(status=status, text=text)

    async def start(self) -> Receiver:
        """Listen on ``port``."""
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        """Start."""
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        """Stop."""
        await self.stop()

    def keys(self) -> list[tuple[str, str, str]]:
        """(session id, type, seq) of every request, in arrival order."""
        return [(r.session_id, r.type, r.seq) for r in self.received]

    def of_session(self, session_id: str) -> list[Received]:
        """The requests for one session, in arrival order."""
        return [r for r in self.received if r.session_id == session_id]


def server_public_pem(data_dir: Path) -> str:
    """The server public key PEM as ``kassa server-key`` prints it (creating the key)."""
    done = kassa_cli("server-key", env={"KASSA_DATA_DIR": str(data_dir)})
    return done.stdout


class WorkerProcess:
    """``kassa worker`` as a subprocess over ``database_url`` with ``FAST`` timings."""

    def __init__(
        self,
        database_url: str,
        data_dir: Path,
        *args: str,
        **env: str,
    ) -> None:
        """Prepare (not start) a worker with extra CLI ``args``; ``env`` overrides ``FAST``."""
        self.args = args
        self.database_url = database_url
        self.data_dir = data_dir
        self.env = {**FAST, **env}
        self.log_path = data_dir / f"worker-{id(self)}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        """Start and wait (up to 30 s) until it logs ``worker_started``."""
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("KASSA_")},
            "KASSA_DATABASE_URL": self.database_url,
            "KASSA_DATA_DIR": str(self.data_dir),
            **self.env,
        }
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kassa", "worker", *self.args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "worker_started" in self.log():
                return self
            if self.proc.poll() is not None:
                msg = f"kassa worker exited: {self.log()[-2000:]}"
                raise RuntimeError(msg)
            time.sleep(0.05)
        self.kill()
        msg = f"kassa worker did not start: {self.log()[-2000:]}"
        raise RuntimeError(msg)

    def stop(self) -> int | None:
        """SIGTERM, wait up to 15 s (then SIGKILL); return the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        """SIGKILL: no chance to record or release anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def log(self) -> str:
        """Everything the worker printed."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> Self:
        """Start."""
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        """Stop (kill if it does not stop)."""
        self.stop()


def session_of(project_id: str, session_id: str, seq: int) -> PaymentSession:
    """A session state to announce; ``metadata`` carries ``seq`` so each body is distinct."""
    now = datetime.now(UTC)
    return PaymentSession(
        id=session_id,
        project_id=project_id,
        api_version=ApiVersion.V1,
        status=SessionStatus.IN_PROGRESS,
        created_at=now,
        updated_at=now,
        draft=SessionDraft(metadata=str(seq), has_metadata=True),
    )


async def enqueue(
    database_url: str,
    data_dir: Path,
    project_id: str,
    events: Iterable[tuple[str, WebhookType]],
    *,
    per_transaction: int = 1,
) -> list[tuple[str, str, str]]:
    """Record one webhook per (session id, type) in order, ``per_transaction`` per commit.

    Returns the (session id, type, seq) keys the receiver will see.
    """
    container = await bootstrap.build(Settings(database_url=database_url, data_dir=data_dir))
    keys = []
    todo = list(events)
    try:
        project = await container.store.get_project(project_id)
        assert project is not None
        for start in range(0, len(todo), per_transaction):
            async with container.store.unit_of_work() as uow:
                for seq in range(start, min(start + per_transaction, len(todo))):
                    session_id, event = todo[seq]
                    session = session_of(project_id, session_id, seq)
                    record_webhook(container.deps, uow, project, event, session)
                    keys.append((session_id, event.value, str(seq)))
                await uow.commit()
    finally:
        await container.close()
    return keys


async def deliveries(database_url: str, **filters: Any) -> list[DeliveryView]:
    """Every delivery (newest first) with its attempts, read through the store."""
    store = await bootstrap.open_store(database_url)
    try:
        return await store.deliveries.list_deliveries(limit=100_000, **filters)
    finally:
        await store.close()


async def settled(database_url: str, count: int) -> bool:
    """True once ``count`` deliveries exist and none is pending."""
    found = await deliveries(database_url)
    return len(found) == count and all(d.status.value != "pending" for d in found)
