"""Concurrent operations on one session: exactly one wins and the ledger stays sound.

The loser gets an error. In-process on SQLite and PostgreSQL, and against a real server on
PostgreSQL with many signed clients.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from acquiring_kit import Kassa, init_body
from kassa.adapters.clock import SystemClock
from kassa.adapters.db.processor_sql import SqlJournal
from kassa.adapters.processor.sandbox import SandboxProcessor
from kassa.bootstrap import open_store
from kassa.domain.project import ProjectSettings
from kassa.service.queries import check_ledger
from probes import Barrier
from testkit import KassaServer, SignedClient, create_project

if TYPE_CHECKING:
    from pathlib import Path

ROUNDS = 8


async def _race(
    kassa: Kassa,
    barrier: Barrier,
    first: tuple[str, dict[str, Any]],
    second: tuple[str, dict[str, Any]],
) -> list[int]:
    """Both requests decide on the same version before either commits; both answers."""
    barrier.reset()
    before = barrier.conflicts
    responses = await asyncio.gather(kassa.post(*first), kassa.post(*second))
    assert barrier.conflicts == before + 1  # the race happened: one version check was lost
    return sorted(r.status_code for r in responses)


async def _payment_calls(kassa: Kassa, sid: str) -> list[str]:
    payment = (await kassa.session(sid))["acquiring_payments"][0]
    return [kind for kind, _op, _amount in await kassa.processor_calls(payment["id"])]


async def test_confirm_and_cancel_race_has_one_winner(open_kassa: Any) -> None:
    """Racing confirm ∥ cancel: one 200, one 409, one payment_finished; the processor agrees."""
    barrier = Barrier()
    kassa = await open_kassa(barrier)
    for _ in range(ROUNDS):
        sid = (await kassa.ok("session/init/payment", init_body()))["session"]["id"]
        body = {"session_id": sid}
        got = await _race(kassa, barrier, ("session/confirm", body), ("session/cancel", body))
        assert got == [200, 409]
        assert (await kassa.webhook_types(sid)).count("payment_finished") == 1
        calls = await _payment_calls(kassa, sid)
        assert calls in (["authorize", "capture"], ["authorize", "release"])  # never both
        status = (await kassa.session(sid))["acquiring_payments"][0]["status"]
        assert status == ("succeeded" if calls[-1] == "capture" else "failed")
        await kassa.ledger_ok()


async def test_capture_and_cancel_race_has_one_winner(open_kassa: Any) -> None:
    """Racing capture ∥ cancel on a hold: one 200, one 409, one effect at the processor."""
    barrier = Barrier()
    kassa = await open_kassa(barrier, two_step_capture=True)
    for _ in range(ROUNDS):
        sid = (await kassa.ok("session/init/payment", init_body()))["session"]["id"]
        body = {"session_id": sid}
        got = await _race(kassa, barrier, ("session/capture", body), ("session/cancel", body))
        assert got == [200, 409]
        assert (await kassa.webhook_types(sid)).count("payment_finished") == 1
        assert await _payment_calls(kassa, sid) in (
            ["authorize", "capture"],
            ["authorize", "release"],
        )
        await kassa.ledger_ok()
    assert "holds" not in await kassa.balances()


async def test_double_capture_captures_once(open_kassa: Any) -> None:
    """Two captures of one hold: one 200, one 409, one capture at the processor."""
    barrier = Barrier()
    kassa = await open_kassa(barrier, two_step_capture=True)
    for _ in range(ROUNDS // 2):
        sid = (await kassa.ok("session/init/payment", init_body()))["session"]["id"]
        body = {"session_id": sid}
        got = await _race(kassa, barrier, ("session/capture", body), ("session/capture", body))
        assert got == [200, 409]
        assert await _payment_calls(kassa, sid) == ["authorize", "capture"]
        assert (await kassa.webhook_types(sid)).count("payment_finished") == 1
        await kassa.ledger_ok()


async def test_two_refunds_racing_for_the_last_amount(open_kassa: Any) -> None:
    """Two 6000 refunds of a 10000 payment: one accepted, one refund_amount_exceeded."""
    barrier = Barrier()
    kassa = await open_kassa(barrier, auto_confirm=True)
    for _ in range(ROUNDS):
        sid = (await kassa.ok("session/init/payment", init_body()))["session"]["id"]
        body = {"session_id": sid, "amount_details": {"amount": 6000, "currency": "usd"}}
        got = await _race(kassa, barrier, ("session/refund", body), ("session/refund", body))
        assert got == [200, 422]
        refunds = (await kassa.session(sid))["acquiring_payments"][0]["refunds"]
        assert len(refunds) == 1
        assert (await kassa.webhook_types(sid)).count("payment_refunded") == 1
        sent = await kassa.processor_calls(refunds[0]["id"])
        assert sent == [("refund", refunds[0]["id"], 6000)]
        await kassa.ledger_ok()


@pytest.mark.postgres
@pytest.mark.slow
async def test_many_clients_race_on_a_real_server_over_postgres(
    pg_url: str, tmp_path: Path
) -> None:
    """24 clients racing confirm ∥ cancel, refund ∥ refund, capture ∥ cancel: one winner each."""
    project = await create_project(pg_url, settings=ProjectSettings())
    server = KassaServer(pg_url, tmp_path, KASSA_WORKER="0").start()
    clients = [SignedClient(server.base_url, project) for _ in range(24)]
    try:
        created = await asyncio.gather(
            *(c.ok("session/init/payment", init_body()) for c in clients)
        )
        sids = [c["session"]["id"] for c in created]

        async def pair(client: SignedClient, sid: str) -> list[int]:
            body = {"session_id": sid}
            got = await asyncio.gather(
                client.post("session/confirm", body), client.post("session/cancel", body)
            )
            return sorted(r.status_code for r in got)

        outcomes = await asyncio.gather(*(pair(c, s) for c, s in zip(clients, sids, strict=True)))
        assert all(o == [200, 409] for o in outcomes), outcomes
        payer = await create_project(pg_url, settings=ProjectSettings(auto_confirm=True))
        for client in clients:
            client.project = payer
        paid = await asyncio.gather(*(c.ok("session/init/payment", init_body()) for c in clients))
        accepted = [(c, p["session"]["id"]) for c, p in zip(clients, paid, strict=True)]

        async def refunds(client: SignedClient, sid: str) -> list[int]:
            body = {"session_id": sid, "amount_details": {"amount": 6000, "currency": "usd"}}
            got = await asyncio.gather(
                client.post("session/refund", body), client.post("session/refund", body)
            )
            return sorted(r.status_code for r in got)

        outcomes = await asyncio.gather(*(refunds(c, s) for c, s in accepted))
        assert all(o == [200, 422] for o in outcomes), outcomes
        holder = await create_project(pg_url, settings=ProjectSettings(two_step_capture=True))
        for client in clients:
            client.project = holder
        held = await asyncio.gather(*(c.ok("session/init/payment", init_body()) for c in clients))

        async def capture_or_cancel(client: SignedClient, sid: str) -> list[int]:
            body = {"session_id": sid}
            got = await asyncio.gather(
                client.post("session/capture", body), client.post("session/cancel", body)
            )
            return sorted(r.status_code for r in got)

        outcomes = await asyncio.gather(
            *(capture_or_cancel(c, h["session"]["id"]) for c, h in zip(clients, held, strict=True))
        )
        assert all(o == [200, 409] for o in outcomes), outcomes
        metrics = httpx.get(f"{server.base_url}/metrics", timeout=10).text
        conflicts = re.search(r"^kassa_version_conflicts_total (\S+)$", metrics, re.MULTILINE)
        assert conflicts is not None
        assert float(conflicts.group(1)) >= 1  # requests really decided on one version at once
        store = await open_store(pg_url)
        try:
            processor = SandboxProcessor(SystemClock(), SqlJournal(store.driver))
            report = await check_ledger(store, processor)
            finished = await store.driver.fetch(
                "SELECT session_id, COUNT(*) FROM outbox WHERE event_type = 'payment_finished' "
                "GROUP BY session_id"
            )
            refunded = await store.driver.fetch(
                "SELECT session_id, COUNT(*) FROM outbox WHERE event_type = 'payment_refunded' "
                "GROUP BY session_id"
            )
            calls = await processor.records()
        finally:
            await store.close()
        assert report.ok, report.problems
        raced = [*sids, *(h["session"]["id"] for h in held)]
        assert {s: dict(finished).get(s) for s in raced} == dict.fromkeys(raced, 1)
        assert all(n == 1 for n in dict(finished).values())
        assert dict(refunded) == {sid: 1 for _client, sid in accepted}  # one refund per pair
        refunds = [c for c in calls if c.kind == "refund"]
        assert sorted(c.amount for c in refunds) == [6000] * len(accepted)
    finally:
        for client in clients:
            await client.aclose()
        server.stop()
