"""A request dies at each step of an operation; the sweeper finishes it exactly once.

Steps (``service/operations.py``): before the intent commits, after it committed, after the
processor answered, and after the record was decided but before it committed. At each, the
request raises (what a SIGKILL there leaves behind; the real kill is in tests/reliability).
Then: a retry with the same idempotency key is told to wait (``Retry-After``) while the
operation is bound to it; the sweeper, once the call's ``recover_at`` has passed, asks the
processor again with the same key and records the answer; the operation ends in its state
with its postings, one webhook, the processor acting once per key, and the retry replaying
the final reply. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from acquiring_kit import Kassa, init_body
from kassa.service.timeouts import sweep_timeouts
from payout_kit import payout_body, payouts_of
from probes import CountingHold, FaultAt

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

STEPS = ["intent:decided", "intent:committed", "call:after", "record:decided"]


def _payment(session: dict[str, Any]) -> dict[str, Any]:
    return dict(session["acquiring_payments"][0])


def _last_refund(session: dict[str, Any]) -> dict[str, Any]:
    return dict(_payment(session)["refunds"][-1])


def _payout(session: dict[str, Any]) -> dict[str, Any]:
    return payouts_of(session)[0]


@dataclass(frozen=True)
class Flow:
    """An operation: how to get to it, the request, and how it must end."""

    name: str
    settings: dict[str, bool]
    prepare: Callable[[Kassa], Awaitable[str | None]]
    method: str
    body: Callable[[str | None], dict[str, Any]]
    webhook: str
    status: str  # of the operation at the end
    calls: int  # processor calls the operation makes
    operation: Callable[[dict[str, Any]], dict[str, Any]] = _payment  # in the session


async def _started(k: Kassa) -> str:
    return str((await k.ok("session/init/payment", init_body()))["session"]["id"])


async def _nothing(_k: Kassa) -> None:
    return None


async def _funded(k: Kassa) -> None:
    await k.topup(1000)


def _session(sid: str | None) -> dict[str, Any]:
    return {"session_id": sid}


FLOWS = [
    Flow("init", {}, _nothing, "session/init/payment", lambda _: init_body(), "ready_to_confirm",
         "pending", 1),
    Flow("init_auto_confirm", {"auto_confirm": True}, _nothing, "session/init/payment",
         lambda _: init_body(), "payment_finished", "succeeded", 2),
    Flow("confirm", {}, _started, "session/confirm", _session, "payment_finished", "succeeded", 1),
    Flow("cancel", {}, _started, "session/cancel", _session, "payment_finished", "failed", 1),
    Flow("capture", {"two_step_capture": True}, _started, "session/capture", _session,
         "payment_finished", "succeeded", 1),
    Flow("refund", {"auto_confirm": True}, _started, "session/refund", _session,
         "payment_refunded", "accepted", 1, _last_refund),
    Flow("payout", {"auto_confirm": True}, _funded, "session/init/payout",
         lambda _: payout_body(amount=1000), "payment_finished", "succeeded", 1, _payout),
]  # fmt: skip


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("flow", FLOWS, ids=[f.name for f in FLOWS])
async def test_the_sweeper_finishes_an_operation_whose_request_died(
    open_kassa: Any, flow: Flow, step: str
) -> None:
    """Crash at ``step``: later exactly one outcome, one webhook, one act per processor key."""
    fault = FaultAt(step, armed=False)
    k: Kassa = await open_kassa(fault, **flow.settings)
    sid = await flow.prepare(k)
    fault.armed = True
    fault.seen.clear()
    before_calls = len(await k.processor_calls())
    body = flow.body(sid)
    died = await k.post(flow.method, body, idempotency_key="order-1")
    assert died.status_code == 500, died.text
    assert died.json()["error"]["code"] == "internal_error"
    assert fault.fired

    if step == "intent:decided":  # nothing committed: the key was released, the retry runs
        retried = await k.post(flow.method, body, idempotency_key="order-1")
        assert retried.status_code == 200, retried.text
        sid = retried.json()["session"]["id"]
    else:
        waiting = await k.post(flow.method, body, idempotency_key="order-1")
        assert waiting.status_code == 400, waiting.text  # bound to the unfinished operation
        assert waiting.json()["error"]["code"] == "idempotency_key_already_exists"
        assert int(waiting.headers["retry-after"]) >= 1
        rows = await k.store.driver.fetch(
            "SELECT id FROM sessions WHERE project_id = ? ORDER BY id", (k.project.id,)
        )
        sid = sid or rows[-1][0]
        asks = fault.seen["call:before"]
        later = k.deps.clock.now() + k.deps.acquiring.recovery_after + timedelta(seconds=1)
        assert await sweep_timeouts(k.deps, later) == 1
        assert fault.seen["call:before"] > asks  # the sweeper asked the processor again
        assert await sweep_timeouts(k.deps, later) == 0  # and there is nothing left to do
        retried = await k.post(flow.method, body, idempotency_key="order-1")
        assert retried.status_code == 200, retried.text  # the final reply, stored by the sweep

    session = await k.session(str(sid))
    assert flow.operation(session)["status"] == flow.status
    assert retried.json()["session"] == session
    assert (await k.webhook_types(str(sid))).count(flow.webhook) == 1
    records = await k.processor_calls()
    made = records[before_calls:]
    assert len(made) == flow.calls  # each key acted on once, however often it was asked
    await k.ledger_ok()


async def test_a_record_starts_from_the_session_its_intent_committed(
    open_kassa: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the processor's answer and its record nothing reads the session again."""
    k: Kassa = await open_kassa()
    sid = await _started(k)
    reads: list[str] = []
    get_session = k.deps.store.get_session

    async def counted(project_id: str, session_id: str) -> Any:
        reads.append(session_id)
        return await get_session(project_id, session_id)

    monkeypatch.setattr(k.deps.store, "get_session", counted)
    reply = await k.ok("session/confirm", {"session_id": sid})
    assert reply["session"]["acquiring_payments"][0]["status"] == "succeeded"
    assert reads == [sid]  # the intent's load only; the record wrote over its own commit
    assert (await k.webhook_types(sid)).count("payment_finished") == 1


async def test_a_slow_request_and_the_sweeper_record_the_answer_once(open_kassa: Any) -> None:
    """The sweeper finishes a call while its request still waits: the late record does nothing.

    The late record starts from the session its intent committed, now stale: its write meets
    the sweeper's version, conflicts (seen), reloads, and finds the call recorded.
    """
    hold = CountingHold("call:after")
    k: Kassa = await open_kassa(hold)
    sid = await _started(k)
    hold.armed = True
    slow = asyncio.create_task(k.post("session/confirm", {"session_id": sid}))
    await asyncio.wait_for(hold.reached.wait(), 10)  # asked the processor, not yet recorded
    later = k.deps.clock.now() + k.deps.acquiring.recovery_after + timedelta(seconds=1)
    hold.armed = False
    assert await sweep_timeouts(k.deps, later) == 1  # the sweeper asks again and records
    hold.release()
    response = await slow
    assert response.status_code == 200, response.text
    payment = response.json()["session"]["acquiring_payments"][0]
    assert payment["status"] == "succeeded"
    assert (await k.webhook_types(sid)).count("payment_finished") == 1
    assert [c[0] for c in await k.processor_calls(payment["id"])] == ["authorize", "capture"]
    assert hold.seen["conflict"] == 1
    await k.ledger_ok()
