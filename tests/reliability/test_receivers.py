"""Webhook receivers misbehaving (issue 14 §7), against a real ``kassa worker``.

- Down for longer than the (shrunk) retry window, then back: every attempt is recorded, the
  delivery ends ``failed`` and ``kassa webhooks list --failed`` reports it; ``kassa webhooks
  replay`` then delivers the same signed bytes.
- A 9 s receiver, one that never answers nor closes, one answering 302 to another host and
  one answering 10 MiB, all at once: the other project's webhooks arrive meanwhile, the
  redirect is not followed, the 10 MiB answer is cut off and only its excerpt kept.
- The SSRF guard is on by default (``KASSA_ALLOW_PRIVATE_WEBHOOKS`` unset, sandbox on):
  loopback, link-local and private URLs are refused at registration and at delivery.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

import reliability_tally
from hostile_receivers import HUGE, RawReceiver
from kassa.config import Settings
from kassa.domain.webhook_url import is_public_address
from kassa.service.outbox import WebhookType
from kassa.service.ports.delivery import EXCERPT_BYTES
from testkit import create_project, free_port, kassa_cli, wait_for
from webhook_kit import Receiver, WorkerProcess, deliveries, enqueue, server_public_pem, settled

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

EVENT = WebhookType.PAYMENT_FINISHED


def cli_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """Settings of a ``kassa`` command on the test's database."""
    return {"KASSA_DATABASE_URL": database_url, "KASSA_DATA_DIR": str(data_dir), **extra}


async def test_a_receiver_down_past_the_give_up_time_is_reported_and_replay_delivers(
    database_url: str, tmp_path: Path
) -> None:
    """Nobody listens for 1.5 s of retries: failed, listed as failed; replay once it is back."""
    pem = server_public_pem(tmp_path)
    receiver = Receiver(pem, port=free_port())
    project = await create_project(database_url, webhook_url=receiver.url)
    events = [(f"ps_down{n}", EVENT) for n in range(3)]
    await enqueue(database_url, tmp_path, project.id, events)
    env = cli_env(database_url, tmp_path)
    with WorkerProcess(database_url, tmp_path, KASSA_WEBHOOK_GIVE_UP_SECONDS="1.5"):
        await wait_for(lambda: settled(database_url, 3), timeout=30)
        failed = await deliveries(database_url)
        assert {d.status.value for d in failed} == {"failed"}
        attempts = sum(len(d.attempt_log) for d in failed)
        assert all(len(d.attempt_log) >= 2 for d in failed), [len(d.attempt_log) for d in failed]
        assert all(
            a.result.error and a.result.error.startswith("connection failed")
            for d in failed
            for a in d.attempt_log
        )
        listed = json.loads(kassa_cli("webhooks", "list", "--failed", "--json", env=env).stdout)[
            "deliveries"
        ]
        assert {d["id"] for d in listed} == {d.id for d in failed}
        async with receiver:
            for d in failed:  # in a thread: the receiver answers on this test's event loop
                await asyncio.to_thread(kassa_cli, "webhooks", "replay", str(d.id), env=env)
            await wait_for(lambda: len(receiver.received) >= 3, timeout=20)
    final = await deliveries(database_url)
    assert sorted(r.session_id for r in receiver.received) == sorted(s for s, _ in events), (
        [(r.session_id, r.number) for r in receiver.received],
        [
            (d.id, d.status.value, [(a.result.http_status, a.result.error) for a in d.attempt_log])
            for d in final
            if d.replay_of
        ],
    )
    assert all(r.signature_ok for r in receiver.received)
    dialect = "sqlite" if database_url.startswith("sqlite") else "postgres"
    reliability_tally.record(
        "receivers",
        f"down-then-back-{dialect}",
        {
            "webhooks": len(events),
            "failed attempts recorded": attempts,
            "given up (listed by webhooks list --failed)": len(listed),
            "replayed and delivered": len(receiver.received),
            "lost": len(events) - len({r.session_id for r in receiver.received}),
        },
        ".venv/bin/pytest tests/reliability/test_receivers.py -k down_past",
        notes=["Give-up window shrunk to 1.5 s (KASSA_WEBHOOK_GIVE_UP_SECONDS)."],
    )


async def test_slow_hanging_redirecting_and_huge_receivers_stall_nobody(
    sqlite_url: str, tmp_path: Path
) -> None:
    """9 s, never-closing, 302 and 10 MiB receivers; a normal project is served meanwhile.

    On SQLite only (the delivery pump is the same code on both; this one costs ~30 s).
    """
    database_url = sqlite_url
    slow = await RawReceiver("slow", delay=9.0).start()
    hang = await RawReceiver("hang").start()
    target = await RawReceiver("ok").start()
    redirect = await RawReceiver(
        "redirect", location=target.url.replace("127.0.0.1", "localhost")
    ).start()
    huge = await RawReceiver("huge").start()
    normal = await RawReceiver("ok").start()
    bad = {"slow": slow, "hang": hang, "redirect": redirect, "huge": huge}
    try:
        projects = {
            name: await create_project(database_url, webhook_url=r.url)
            for name, r in {**bad, "normal": normal}.items()
        }
        for name in bad:
            await enqueue(database_url, tmp_path, projects[name].id, [(f"ps_{name}", EVENT)])
        env = {"KASSA_WEBHOOK_TIMEOUT_SECONDS": "10", "KASSA_WORKER_LEASE_SECONDS": "30"}
        with WorkerProcess(database_url, tmp_path, **env):
            await wait_for(lambda: slow.arrivals and hang.arrivals and huge.answered, timeout=20)
            sent_at = time.monotonic()
            events = [(f"ps_normal{n}", EVENT) for n in range(5)]
            await enqueue(database_url, tmp_path, projects["normal"].id, events)
            await wait_for(lambda: len(normal.arrivals) >= 5, timeout=8)
            normal_seconds = max(normal.arrivals) - sent_at
            still_slow = not slow.answered  # the 9 s answer had not come yet
            await wait_for(lambda: slow.answered, timeout=15)

            async def settled_all_but_hang() -> bool:
                found = {d.session_id: d for d in await deliveries(database_url)}
                return (
                    all(
                        found[s].status.value != "pending"
                        for s in ("ps_slow", "ps_redirect", "ps_huge", *(e for e, _ in events))
                        if s in found
                    )
                    and len(found) >= 9
                )

            # Outcomes of one claimed batch are written together: up to the timeout
            # of the hanging receiver after the slow one answered.
            await wait_for(settled_all_but_hang, timeout=40)
        views = {d.session_id: d for d in await deliveries(database_url)}
    finally:
        for r in (slow, hang, target, redirect, huge, normal):
            await r.stop()
    assert still_slow, "the normal project's webhooks waited for the slow receiver"
    assert all(views[s].status.value == "delivered" for s, _ in events)
    assert views["ps_slow"].status.value == "delivered"
    huge_view = views["ps_huge"]
    assert huge_view.status.value == "delivered"
    excerpt = huge_view.attempt_log[-1].result.excerpt or ""
    assert len(excerpt) <= EXCERPT_BYTES
    assert huge.written < HUGE, huge.written
    redirected = views["ps_redirect"]
    assert redirected.status.value in {"pending", "failed"}  # never delivered by following
    assert {a.result.http_status for a in redirected.attempt_log} == {302}
    assert target.arrivals == []
    dialect = "sqlite" if database_url.startswith("sqlite") else "postgres"
    reliability_tally.record(
        "receivers",
        f"misbehaving-receivers-{dialect}",
        {
            "normal webhooks delivered while the slow one waited": len(events),
            "seconds for the normal project's webhooks": round(normal_seconds, 2),
            "slow receiver (s)": 9,
            "never-closing receiver": "held open, others served",
            "302 attempts": len(redirected.attempt_log),
            "requests reaching the redirect target": len(target.arrivals),
            "bytes of the 10 MiB answer written before kassa hung up": huge.written,
            "excerpt kept (chars)": len(excerpt),
        },
        ".venv/bin/pytest tests/reliability/test_receivers.py -k stall",
    )


PRIVATE_URLS = [
    "http://127.0.0.1:9/hook",
    "http://localhost:9/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/hook",
    "http://192.168.1.1/hook",
    "http://172.16.0.1/hook",
    "http://[::1]:9/hook",
    "http://0x7f.1/hook",
    "http://100.64.0.1/hook",
]


async def test_private_targets_are_refused_by_default(database_url: str, tmp_path: Path) -> None:
    """Sandbox on, switch unset: registration refuses them; delivery refuses them too."""
    assert Settings().sandbox is True
    assert Settings().allow_private_webhooks is False
    project = await create_project(database_url)
    env = cli_env(database_url, tmp_path)
    for url in PRIVATE_URLS:
        done = kassa_cli("projects", "set-webhook", project.id, url, env=env, check=False)
        assert done.returncode == 2, (url, done.stdout, done.stderr)
        assert "KASSA_ALLOW_PRIVATE_WEBHOOKS" in done.stderr
    # Registered behind the guard's back (straight into the database) or by a name that
    # resolves to a private address: refused at every attempt, never connected to.
    listener = await RawReceiver("ok").start()
    name = socket.gethostname()
    resolved = {info[4][0] for info in socket.getaddrinfo(name, None)}
    try:
        targets = {"ps_meta": "http://169.254.169.254/latest/meta-data/", "ps_loop": listener.url}
        if not any(is_public_address(a) for a in resolved):
            targets["ps_name"] = f"http://{name}:{listener.port}/hook"
        for session_id, url in targets.items():
            p = await create_project(database_url, webhook_url=url)
            await enqueue(database_url, tmp_path, p.id, [(session_id, EVENT)])
        strict = {"KASSA_ALLOW_PRIVATE_WEBHOOKS": "0", "KASSA_WEBHOOK_GIVE_UP_SECONDS": "0.5"}
        with WorkerProcess(database_url, tmp_path, **strict):
            await wait_for(lambda: settled(database_url, len(targets)), timeout=20)
    finally:
        await listener.stop()
    views = await deliveries(database_url)
    assert {v.status.value for v in views} == {"failed"}
    errors = [a.result.error or "" for v in views for a in v.attempt_log]
    assert errors
    assert all(e.startswith("refused: ") for e in errors), errors
    assert listener.arrivals == []
    reliability_tally.record(
        "receivers",
        f"ssrf-guard-default-{'sqlite' if database_url.startswith('sqlite') else 'postgres'}",
        {
            "private URLs refused at registration": len(PRIVATE_URLS),
            "targets refused at delivery": len(targets),
            "connections made to them": 0,
            "host name resolving to a private address checked": "yes"
            if "ps_name" in targets
            else "no (resolves public)",
        },
        ".venv/bin/pytest tests/reliability/test_receivers.py -k refused_by_default",
        notes=["Default settings: KASSA_SANDBOX on, KASSA_ALLOW_PRIVATE_WEBHOOKS unset."],
    )


@pytest.mark.parametrize(("args", "env", "allowed"), [
    ((), {}, False),
    (("--demo",), {}, True),
    (("--demo",), {"KASSA_ALLOW_PRIVATE_WEBHOOKS": "0"}, False),
])  # fmt: skip
def test_only_demo_or_the_switch_relaxes_the_guard(
    sqlite_url: str, tmp_path: Path, args: tuple[str, ...], env: dict[str, str], allowed: bool
) -> None:
    """``kassa serve`` keeps the guard on; ``--demo`` (make run) relaxes it unless told not to."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KASSA_")}
    log = tmp_path / "serve.log"
    settings = {"KASSA_DATABASE_URL": sqlite_url, "KASSA_DATA_DIR": str(tmp_path),
                "KASSA_PORT": str(port), **env}  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kassa", "serve", *args],
            env={**clean, **settings},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while "worker_started" not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.1)
        line = next(x for x in log.read_text().splitlines() if "worker_started" in x)
    finally:
        proc.terminate()
        proc.wait(10)
    assert json.loads(line)["allow_private_webhooks"] is allowed, line
