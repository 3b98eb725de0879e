"""Webhook delivery end to end: a real worker process, a real receiver, both databases.

The worker is ``kassa worker`` (or ``kassa serve`` with its in-process worker); the receiver
is an aiohttp app on 127.0.0.1 that verifies every signature with the server public key.
Timings are shrunk through ``KASSA_*`` settings (``webhook_kit.FAST``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import pytest

from kassa.service.outbox import WebhookType
from testkit import KassaServer, create_project, free_port, kassa_cli, wait_for
from webhook_kit import (
    FAST,
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


@pytest.fixture
def pem(tmp_path: Path) -> str:
    """The server public key, as ``kassa server-key`` prints it for this data folder."""
    return server_public_pem(tmp_path)


def cli_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """Settings for a ``kassa`` command on the test's database."""
    return {
        "KASSA_DATABASE_URL": database_url,
        "KASSA_DATA_DIR": str(data_dir),
        "KASSA_ALLOW_PRIVATE_WEBHOOKS": "1",  # the receivers listen on 127.0.0.1
    }


def assert_all_signed(receiver: Receiver) -> None:
    """Every request carried JSON and a signature that verifies with the server key."""
    assert receiver.received
    assert all(r.signature_ok for r in receiver.received)
    assert {r.content_type for r in receiver.received} == {"application/json"}


async def test_webhooks_of_a_session_arrive_in_order_and_other_sessions_are_not_held_up(
    database_url: str,
    tmp_path: Path,
    pem: str,
) -> None:
    """Session A's first webhook fails until all of B's arrived: A's later ones wait, B's don't."""
    receiver = Receiver(pem)

    async def answer(got: Received) -> int:
        b_done = len(receiver.of_session("ps_b")) >= 3
        return 500 if got.session_id == "ps_a" and got.seq == "0" and not b_done else 200

    receiver.answer = answer
    async with receiver:
        project = await create_project(database_url, webhook_url=receiver.url)
        events = [("ps_a", t) for t in FLOW] + [("ps_b", t) for t in FLOW[1:]]
        keys = await enqueue(database_url, tmp_path, project.id, events)
        with WorkerProcess(database_url, tmp_path):
            await wait_for(lambda: settled(database_url, len(keys)), timeout=20)
    assert_all_signed(receiver)
    a = [(r.seq, status) for r, status in receiver.answered if r.session_id == "ps_a"]
    first_ok = a.index(("0", 200))
    assert first_ok >= 1
    assert all(entry == ("0", 500) for entry in a[:first_ok])
    assert [seq for seq, _ in a[first_ok:]] == ["0", "1", "2", "3"]
    assert [r.seq for r in receiver.of_session("ps_b")] == ["4", "5", "6"]
    assert sorted(set(receiver.keys())) == sorted(keys)
    [a_first] = [d for d in await deliveries(database_url) if d.id == 1]
    assert [x.result.http_status for x in a_first.attempt_log][-1] == 200
    assert {x.result.http_status for x in a_first.attempt_log[:-1]} == {500}


async def test_a_timed_out_webhook_is_sent_again(
    database_url: str,
    tmp_path: Path,
    pem: str,
) -> None:
    """No answer within the timeout: recorded as a timeout, retried, then delivered."""
    receiver = Receiver(pem)

    async def answer(_got: Received) -> int:
        if len(receiver.received) == 1:
            await asyncio.sleep(1.5)
        return 200

    receiver.answer = answer
    async with receiver:
        project = await create_project(database_url, webhook_url=receiver.url)
        await enqueue(database_url, tmp_path, project.id, [("ps_a", WebhookType.PAYMENT_FINISHED)])
        env = {"KASSA_WEBHOOK_TIMEOUT_SECONDS": "0.5"}
        with WorkerProcess(database_url, tmp_path, **env):
            await wait_for(lambda: settled(database_url, 1), timeout=20)
    [row] = await deliveries(database_url)
    assert row.status.value == "delivered"
    assert [a.result.error for a in row.attempt_log] == ["timeout after 0.5 s", None]
    assert [a.result.http_status for a in row.attempt_log] == [None, 200]
    assert len({r.body for r in receiver.received}) == 1
    assert_all_signed(receiver)


async def test_a_refused_connection_is_retried_until_the_receiver_listens(
    database_url: str,
    tmp_path: Path,
    pem: str,
) -> None:
    """Nobody listening: attempts record the connection error; once it listens, delivered."""
    receiver = Receiver(pem, port=free_port())
    project = await create_project(database_url, webhook_url=receiver.url)
    await enqueue(database_url, tmp_path, project.id, [("ps_a", WebhookType.PAYMENT_FINISHED)])

    async def attempted_twice() -> bool:
        return sum(len(d.attempt_log) for d in await deliveries(database_url)) >= 2

    with WorkerProcess(database_url, tmp_path):
        await wait_for(attempted_twice, timeout=20)
        async with receiver:
            await wait_for(lambda: settled(database_url, 1), timeout=20)
    [row] = await deliveries(database_url)
    assert row.status.value == "delivered"
    *failed, last = row.attempt_log
    assert all(a.result.error and a.result.error.startswith("connection failed") for a in failed)
    assert last.result.http_status == 200
    assert len(receiver.received) == 1
    assert_all_signed(receiver)


async def test_a_webhook_never_answered_2xx_fails_at_the_give_up_time_and_its_session_goes_on(
    database_url: str,
    tmp_path: Path,
    pem: str,
) -> None:
    """Always 500: every attempt is recorded, the row fails, the next webhook is delivered.

    Shrunk schedule: retries from 50 ms, at most 200 ms apart, give-up 2 s after the first
    attempt. Each attempt keeps its time, status, latency and the first KiB of the answer.
    """
    long_answer = "answer 500: " + "ж" * 3000  # 6 KB of two-byte characters

    async def answer(got: Received) -> int:
        return 500 if got.seq == "0" else 200

    def reply(_got: Received, status: int) -> str:
        return long_answer if status == 500 else "ok"

    async with Receiver(pem, answer, reply) as receiver:
        project = await create_project(database_url, webhook_url=receiver.url)
        events = [("ps_a", WebhookType.READY_TO_CONFIRM), ("ps_a", WebhookType.PAYMENT_FINISHED)]
        await enqueue(database_url, tmp_path, project.id, events)
        with WorkerProcess(database_url, tmp_path, KASSA_WEBHOOK_GIVE_UP_SECONDS="2"):
            await wait_for(lambda: settled(database_url, 2), timeout=20)
    listed = json.loads(
        kassa_cli(
            "webhooks", "list", "--failed", "--json", env=cli_env(database_url, tmp_path)
        ).stdout,
    )["deliveries"]
    [failed] = listed
    assert (failed["id"], failed["status"], failed["last_error"]) == (1, "failed", "HTTP 500")
    log = failed["attempt_log"]
    assert len(log) == failed["attempts"] >= 5
    assert {a["http_status"] for a in log} == {500}
    excerpt = long_answer.encode()[:1024].decode("utf-8", errors="replace")
    assert all(a["response_excerpt"] == excerpt for a in log)
    assert all(a["latency_ms"] > 0 and a["error"] is None for a in log)
    times = [datetime.fromisoformat(a["attempted_at"]) for a in log]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    # Never sooner than the jittered first delay, except the last try: it is moved to the
    # give-up time, which may come sooner than the next delay would (asserted below).
    assert min(gaps[:-1]) >= 0.75 * 0.05 - 0.001
    # The 15-min cap and its setting: tests/unit/test_backoff.py, tests/unit/test_worker.py.
    give_up_at = datetime.fromisoformat(failed["give_up_at"])
    # The clock starts at the claim just before the first attempt (exact values with a frozen
    # clock: tests/delivery_contract.py); here: never later than 2 s after that attempt.
    assert times[0] < give_up_at <= times[0] + timedelta(seconds=2)
    assert times[-1] >= give_up_at  # the last try is at the give-up time, then failed
    assert datetime.fromisoformat(failed["finished_at"]) >= times[-1]
    assert [r.seq for r in receiver.received] == ["0"] * len(log) + ["1"]
    assert_all_signed(receiver)


async def test_replay_sends_the_same_signed_bytes_again(
    database_url: str,
    tmp_path: Path,
    pem: str,
) -> None:
    """``kassa webhooks replay ID`` queues a new delivery of the identical payload."""
    async with Receiver(pem) as receiver:
        project = await create_project(database_url, webhook_url=receiver.url)
        await enqueue(database_url, tmp_path, project.id, [("ps_a", WebhookType.PAYMENT_FINISHED)])
        with WorkerProcess(database_url, tmp_path):
            await wait_for(lambda: settled(database_url, 1), timeout=20)
            env = cli_env(database_url, tmp_path)
            replayed = json.loads(kassa_cli("webhooks", "replay", "1", "--json", env=env).stdout)
            assert (replayed["id"], replayed["replay_of"]) == (2, 1)
            await wait_for(lambda: settled(database_url, 2), timeout=20)
        missing = kassa_cli("webhooks", "replay", "99", env=env, check=False)
    assert missing.returncode == 1
    assert "no delivery #99" in missing.stderr
    first, again = receiver.received
    assert first.body == again.body
    assert_all_signed(receiver)
    text = kassa_cli("webhooks", "list", "--project", project.id, env=env).stdout
    assert "#2 delivered" in text
    assert "replay_of=#1" in text


async def test_a_project_without_url_gets_nothing_and_a_later_url_gets_only_new_webhooks(
    database_url: str,
    tmp_path: Path,
    pem: str,
) -> None:
    """Rows written without a URL stay skipped; setting the URL does not send that history."""
    async with Receiver(pem) as receiver:
        project = await create_project(database_url)
        old = [(f"ps_{n}", WebhookType.PAYMENT_FINISHED) for n in range(3)]
        await enqueue(database_url, tmp_path, project.id, old)
        with WorkerProcess(database_url, tmp_path):
            env = cli_env(database_url, tmp_path)
            kassa_cli("projects", "set-webhook", project.id, receiver.url, env=env)
            await enqueue(
                database_url, tmp_path, project.id, [("ps_new", WebhookType.PAYMENT_FINISHED)]
            )
            await wait_for(lambda: settled(database_url, 4), timeout=20)
    assert receiver.keys() == [("ps_new", "payment_finished", "0")]
    statuses = {d.session_id: d.status.value for d in await deliveries(database_url)}
    assert statuses == {
        "ps_0": "skipped",
        "ps_1": "skipped",
        "ps_2": "skipped",
        "ps_new": "delivered",
    }


async def test_without_the_switch_a_loopback_url_is_refused_at_send_time(
    database_url: str,
    tmp_path: Path,
    pem: str,
) -> None:
    """Without KASSA_ALLOW_PRIVATE_WEBHOOKS (sandbox on) the worker never connects to 127.0.0.1."""
    async with Receiver(pem) as receiver:
        project = await create_project(database_url, webhook_url=receiver.url)
        await enqueue(database_url, tmp_path, project.id, [("ps_a", WebhookType.PAYMENT_FINISHED)])
        env = {
            "KASSA_SANDBOX": "1",
            "KASSA_ALLOW_PRIVATE_WEBHOOKS": "0",
            "KASSA_WEBHOOK_GIVE_UP_SECONDS": "0.3",
        }
        with WorkerProcess(database_url, tmp_path, **env):
            await wait_for(lambda: settled(database_url, 1), timeout=20)
    [row] = await deliveries(database_url)
    assert row.status.value == "failed"
    assert row.attempt_log
    assert all(a.result.error and a.result.error.startswith("refused: ") for a in row.attempt_log)
    assert receiver.received == []


async def test_serve_delivers_in_process_and_exports_delivery_metrics(
    database_url: str,
    tmp_path: Path,
    pem: str,
) -> None:
    """``kassa serve`` runs a worker by default; /metrics shows outcomes, latency and queue."""
    async with Receiver(pem) as receiver:
        project = await create_project(database_url, webhook_url=receiver.url)
        server = KassaServer(database_url, tmp_path, **FAST).start()
        try:
            events = [
                ("ps_a", WebhookType.READY_TO_CONFIRM),
                ("ps_a", WebhookType.PAYMENT_FINISHED),
            ]
            await enqueue(database_url, tmp_path, project.id, events)
            await wait_for(lambda: settled(database_url, 2), timeout=20)

            def metrics() -> str:
                return httpx.get(f"{server.base_url}/metrics", timeout=5).text

            await wait_for(lambda: "kassa_webhook_queue_depth 0.0" in metrics(), timeout=10)
            text = metrics()
        finally:
            server.stop()
    assert [r.seq for r in receiver.received] == ["0", "1"]
    assert_all_signed(receiver)
    assert 'kassa_webhook_deliveries_total{outcome="delivered"} 2.0' in text
    assert 'kassa_webhook_attempt_duration_seconds_count{result="2xx"} 2.0' in text
    assert "kassa_webhook_oldest_pending_age_seconds 0.0" in text
