"""Random interleavings of confirm, cancel, capture, refund, 3DS and the timeout sweeper.

Hypothesis draws sessions (card, settings) and batches of operations; each batch runs
concurrently, and a probe that yields to the event loop a drawn number of times at every
pipeline step shuffles where they interleave (between a decision and its commit, around the
processor call). After every batch: each answer is a result or a clean refusal, kassa's state,
the processor's own record and the ledger agree (``check_ledger`` with the processor), and
every finished payment was announced exactly once.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_service_payments import setup, start

from kassa.domain.errors import InvalidRequest, InvalidSessionStatus, RefundAmountExceeded
from kassa.domain.money import Money
from kassa.domain.session import ApiVersion
from kassa.service import payments, refunds, session_actions
from kassa.service.commands import CapturePayment, RefundPayment, SessionAction, ThreeDsAnswer
from kassa.service.queries import check_ledger
from kassa.service.three_ds import answer_three_ds
from kassa.service.timeouts import sweep_timeouts

CARDS = ["4242424242424242", "4000000000003220", "4000000000000002"]
REFUSED = (InvalidSessionStatus, RefundAmountExceeded, InvalidRequest)


class Shuffle:
    """A probe that yields ``n`` times at each step, ``n`` taken in turn from ``pauses``."""

    def __init__(self, pauses: list[int]) -> None:
        self.pauses = pauses or [0]
        self.turn = 0
        self.conflicts = 0

    async def at(self, step: str, session_id: str) -> None:
        """Yield to the other operations a drawn number of times."""
        del session_id
        if step == "conflict":
            self.conflicts += 1
        self.turn += 1
        for _ in range(self.pauses[self.turn % len(self.pauses)]):
            await asyncio.sleep(0)


OP = st.tuples(
    st.sampled_from(["confirm", "cancel", "capture", "refund", "3ds_pass", "3ds_fail", "sweep"]),
    st.integers(0, 2),
    st.integers(1, 100),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sessions=st.lists(st.tuples(st.integers(0, 2), st.booleans()), min_size=1, max_size=3),
    batches=st.lists(st.lists(OP, min_size=1, max_size=3), min_size=1, max_size=5),
    pauses=st.lists(st.integers(0, 3), max_size=8),
    two_step=st.booleans(),
)
def test_interleavings_keep_kassa_the_processor_and_the_ledger_in_agreement(
    sessions: list[tuple[int, bool]],
    batches: list[list[tuple[str, int, int]]],
    pauses: list[int],
    two_step: bool,
) -> None:
    """Whatever interleaving: clean answers, one outcome per payment, ledger and processor agree."""
    asyncio.run(_run(sessions, batches, pauses, two_step=two_step))


async def _run(
    sessions: list[tuple[int, bool]],
    batches: list[list[tuple[str, int, int]]],
    pauses: list[int],
    *,
    two_step: bool,
) -> None:
    deps, project, store, processor, clock = await setup(two_step_capture=two_step)
    from dataclasses import replace

    shuffle = Shuffle(pauses)
    deps = replace(deps, probe=shuffle)
    opened: list[dict[str, Any]] = []
    for card, _ in sessions:
        reply = await payments.start_payment(deps, project, start(project, CARDS[card]))
        opened.append(orjson.loads(reply.body)["session"])

    async def one(op: str, index: int, value: int) -> None:
        session = opened[index % len(opened)]
        sid, v1 = session["id"], ApiVersion.V1
        action = SessionAction(project.id, v1, sid)
        try:
            if op == "confirm":
                await session_actions.confirm(deps, project, action)
            elif op == "cancel":
                await session_actions.cancel(deps, project, action)
            elif op == "capture":
                amount = Money(max(1, 10000 * value // 100), "usd")
                await payments.capture_payment(
                    deps, project, CapturePayment(project.id, v1, sid, amount)
                )
            elif op == "refund":
                cmd = RefundPayment(project.id, v1, sid, Money(max(1, 60 * value), "usd"))
                await refunds.refund_payment(deps, project, cmd)
            elif op.startswith("3ds"):
                payment = session["acquiring_payments"][0]
                redirect = payment.get("customer_interaction", {}).get("redirect")
                if redirect is not None:
                    token = redirect["qs"]["token"]
                    answer = ThreeDsAnswer(payment["id"], token, passed=op == "3ds_pass")
                    await answer_three_ds(deps, answer)
            else:
                await sweep_timeouts(deps, clock.now() + timedelta(days=10))
        except REFUSED:
            pass  # a clean refusal: the state did not allow it

    for batch in batches:
        await asyncio.gather(*(one(*op) for op in batch))
        report = await check_ledger(store, processor)
        assert report.ok, report.problems
        for session in opened:
            stored = await store.get_session(project.id, session["id"])
            assert stored is not None
            payment = stored.payments[0]
            finished = [
                r
                for r in store.outbox()
                if r.message.session_id == stored.id and r.message.event_type == "payment_finished"
            ]
            done = payment.status.value in {"succeeded", "failed"}
            assert len(finished) == (1 if done else 0), (payment, finished)
            assert payment.call is None  # nothing left half-done once every request answered
