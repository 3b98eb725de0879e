"""Every transition an operation can make has its webhook and postings defined, and no other.

The expected table is written out here (not derived from ``CONSEQUENCES``); a walk over every
flow the use cases can take (each test card, each project setting, confirm, capture, cancel,
3DS pass/fail, every timeout, refund, chargeback) records the transitions that really happen
and checks that they are exactly the table's rows.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import orjson
import pytest
from test_service_payments import setup, start

from kassa.domain import transitions
from kassa.domain.errors import InternalError
from kassa.domain.ledger import EntryKind
from kassa.domain.money import Money
from kassa.domain.operation import Awaiting, CallKind, OperationKind
from kassa.domain.payment import PaymentStatus
from kassa.domain.payout import PayoutStatus
from kassa.domain.refund import RefundStatus
from kassa.domain.transitions import CONSEQUENCES, Consequence, Transition, WebhookType
from kassa.service import fps, payments, payouts, refunds, session_actions, sessions, wallet
from kassa.service.commands import (
    BankCardInput,
    CapturePayment,
    CardInput,
    CreateSession,
    DraftInput,
    FpsCheckInput,
    RefundPayment,
    SessionAction,
    StartPayout,
    ThreeDsAnswer,
    VerifyFpsCustomer,
)
from kassa.service.three_ds import answer_three_ds
from kassa.service.timeouts import sweep_timeouts

if TYPE_CHECKING:
    from kassa.domain.session import ApiVersion

P, R, PO = OperationKind.PAYMENT, OperationKind.REFUND, OperationKind.PAYOUT
PO_IP, PO_PENDING, PO_OK, PO_FAILED = (
    PayoutStatus.IN_PROGRESS,
    PayoutStatus.PENDING,
    PayoutStatus.SUCCEEDED,
    PayoutStatus.FAILED,
)
IP, PENDING, OK, FAILED = (
    PaymentStatus.IN_PROGRESS,
    PaymentStatus.PENDING,
    PaymentStatus.SUCCEEDED,
    PaymentStatus.FAILED,
)
A, C, RL = EntryKind.AUTHORISE, EntryKind.CAPTURE, EntryKind.RELEASE
W = WebhookType

EXPECTED = {
    (P, None, IP, CallKind.AUTHORIZE): (None, ()),
    (P, IP, PENDING, Awaiting.CUSTOMER): (W.ACTION_REQUIRED, ()),
    (P, IP, PENDING, Awaiting.CONFIRM): (W.READY_TO_CONFIRM, (A,)),
    (P, IP, PENDING, Awaiting.CAPTURE): (W.READY_TO_CAPTURE, (A,)),
    (P, IP, IP, CallKind.CAPTURE): (None, (A,)),
    (P, IP, OK, None): (W.PAYMENT_FINISHED, (C, RL)),
    (P, IP, FAILED, None): (W.PAYMENT_FINISHED, (RL,)),
    (P, PENDING, IP, CallKind.AUTHORIZE): (None, ()),
    (P, PENDING, IP, CallKind.CAPTURE): (None, ()),
    (P, PENDING, IP, CallKind.RELEASE): (None, ()),
    (P, PENDING, FAILED, None): (W.PAYMENT_FINISHED, (RL,)),
    (R, None, RefundStatus.IN_PROGRESS, CallKind.REFUND): (None, ()),
    (R, RefundStatus.IN_PROGRESS, RefundStatus.ACCEPTED, None): (
        W.PAYMENT_REFUNDED,
        (EntryKind.REFUND,),
    ),
    (R, RefundStatus.IN_PROGRESS, RefundStatus.DECLINED, None): (W.PAYMENT_REFUNDED, ()),
    (R, None, RefundStatus.ACCEPTED, None): (W.PAYMENT_REFUNDED, (EntryKind.CHARGEBACK,)),
    (PO, None, PO_PENDING, Awaiting.CONFIRM): (W.READY_TO_CONFIRM, (EntryKind.RESERVE,)),
    (PO, None, PO_IP, CallKind.PAYOUT): (None, (EntryKind.RESERVE,)),
    (PO, None, PO_IP, CallKind.VERIFY): (None, ()),
    (PO, PO_PENDING, PO_IP, CallKind.PAYOUT): (None, ()),
    (PO, PO_PENDING, PO_FAILED, None): (W.PAYMENT_FINISHED, (EntryKind.RETURN,)),
    (PO, PO_IP, PO_OK, None): (W.PAYMENT_FINISHED, (EntryKind.SETTLE,)),
    (PO, PO_IP, PO_FAILED, None): (W.PAYMENT_FINISHED, (EntryKind.RETURN,)),
}


def test_the_table_is_the_expected_one():
    """Each transition maps to exactly the webhook and ledger entries written out above."""
    got = {
        (t.kind, t.before, t.after, t.wait): (c.webhook, c.entries) for t, c in CONSEQUENCES.items()
    }
    assert got == EXPECTED


def test_a_transition_outside_the_table_is_refused():
    """Looking up an undefined transition is a bug, reported, never silently no webhook."""
    with pytest.raises(InternalError, match="no consequence"):
        transitions.lookup(Transition(P, OK, FAILED, None))


class Recorder:
    """Wraps ``transitions.lookup`` to see which transitions the use cases really make."""

    def __init__(self) -> None:
        self.seen: set[Transition] = set()
        self.real = transitions.lookup

    def __call__(self, transition: Transition) -> Consequence:
        """Remember ``transition``; the real consequence."""
        self.seen.add(transition)
        return self.real(transition)


async def _flow(settings: dict[str, bool], number: str, then: str, seen: Recorder) -> None:
    deps, project, _store, _processor, clock = await setup(**settings)
    reply = await payments.start_payment(deps, project, start(project, number))
    session = orjson.loads(reply.body)["session"]
    sid = session["id"]
    version: ApiVersion = start(project).api_version
    action = SessionAction(project.id, version, sid)
    payment = session["acquiring_payments"][0]
    if then == "confirm":
        await session_actions.confirm(deps, project, action)
    elif then == "capture":
        capture = CapturePayment(project.id, version, sid)
        await payments.capture_payment(deps, project, capture)
    elif then == "cancel":
        await session_actions.cancel(deps, project, action)
    elif then in {"3ds_pass", "3ds_fail"}:
        token = payment["customer_interaction"]["redirect"]["qs"]["token"]
        answer = ThreeDsAnswer(payment["id"], token, passed=then == "3ds_pass")
        await answer_three_ds(deps, answer)
    elif then == "timeout":
        await sweep_timeouts(deps, clock.now() + timedelta(days=30))
    elif then in {"refund", "chargeback"}:
        if then == "refund":
            cmd = RefundPayment(project.id, version, sid, Money(100, "usd"))
            await refunds.refund_payment(deps, project, cmd)
        else:
            await refunds.chargeback(deps, payment["id"])


FLOWS = [
    ({}, "4242424242424242", "confirm"),
    ({}, "4242424242424242", "cancel"),
    ({}, "4242424242424242", "timeout"),
    ({}, "4000000000000002", "none"),
    ({}, "4000000000003220", "3ds_pass"),
    ({}, "4000000000003220", "3ds_fail"),
    ({}, "4000000000003220", "cancel"),
    ({}, "4000000000003220", "timeout"),
    ({"two_step_capture": True}, "4242424242424242", "capture"),
    ({"two_step_capture": True}, "4242424242424242", "cancel"),
    ({"two_step_capture": True}, "4242424242424242", "timeout"),
    ({"auto_confirm": True}, "4242424242424242", "refund"),
    ({"auto_confirm": True}, "4242424242424242", "chargeback"),
]


PAYOUT_FLOWS = [
    ({}, "4242424242424242", "confirm"),
    ({}, "4000000000000002", "confirm"),
    ({}, "4242424242424242", "cancel"),
    ({}, "4242424242424242", "timeout"),
    ({"auto_confirm": True}, "4242424242424242", "none"),
    ({}, "79261234567", "verify"),
]


async def _payout_flow(settings: dict[str, bool], number: str, then: str) -> None:
    deps, project, store, _processor, clock = await setup(**settings)
    await wallet.topup(store, clock, project.id, Money(50000, "rub"))
    version = start(project).api_version
    recipient = {"recipient": {"full_name": "Ivan Ivanov"}}
    if then == "verify":
        created = await sessions.create_session(
            deps, CreateSession(project.id, version, DraftInput())
        )
        check = FpsCheckInput(phone=number, bank_id="100000000069")
        cmd = VerifyFpsCustomer(
            project.id, version, created.session_id or "", DraftInput(payout_details=check)
        )
        await fps.verify_customer(deps, project, cmd)
        return
    draft = DraftInput(
        amount=Money(1000, "rub"),
        payout_details=CardInput(bank_card=BankCardInput(number)),
        participant_details=recipient,
    )
    reply = await payouts.start_payout(deps, project, StartPayout(project.id, version, draft))
    sid = orjson.loads(reply.body)["session"]["id"]
    action = SessionAction(project.id, version, sid)
    if then == "confirm":
        await session_actions.confirm(deps, project, action)
    elif then == "cancel":
        await session_actions.cancel(deps, project, action)
    elif then == "timeout":
        await sweep_timeouts(deps, clock.now() + timedelta(days=1))


async def test_every_flow_makes_only_table_transitions_and_uses_every_row(monkeypatch):
    """The transitions the use cases make are exactly the table (but a declined refund)."""
    seen = Recorder()
    monkeypatch.setattr(transitions, "lookup", seen)
    monkeypatch.setattr("kassa.service.operations.lookup", seen)
    for settings, number, then in FLOWS:
        await _flow(settings, number, then, seen)
    for settings, number, then in PAYOUT_FLOWS:
        await _payout_flow(settings, number, then)
    declined = Transition(R, RefundStatus.IN_PROGRESS, RefundStatus.DECLINED, None)
    assert seen.seen == set(CONSEQUENCES) - {declined}  # the sandbox never declines a refund
