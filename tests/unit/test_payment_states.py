"""The acquiring payment's transition table, its guard, and the session status that follows it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kassa.domain.errors import InvalidSessionStatus
from kassa.domain.instrument import BankCard, CardRef
from kassa.domain.money import Money
from kassa.domain.operation import Awaiting, CallKind, PendingCall
from kassa.domain.payment import (
    NEXT,
    AcquiringPayment,
    PaymentError,
    PaymentStatus,
)
from kassa.domain.refund import NEXT as REFUND_NEXT
from kassa.domain.refund import Refund, RefundStatus
from kassa.domain.session import (
    ApiVersion,
    PaymentSession,
    SessionDraft,
    SessionStatus,
)

NOW = datetime(2024, 5, 27, tzinfo=UTC)
CARD = BankCard(CardRef("h", "visa", "4242", "424242", "12", "30"))
CALL = PendingCall(CallKind.AUTHORIZE, "pm_1:authorize", 10000, NOW)
IP, PENDING = PaymentStatus.IN_PROGRESS, PaymentStatus.PENDING
OK, FAILED = PaymentStatus.SUCCEEDED, PaymentStatus.FAILED

# The table as the protocol describes it, written out (not derived from NEXT).
ALLOWED = {
    (IP, IP),  # a next processor call (authorised, auto-confirm: capture)
    (IP, PENDING),
    (IP, OK),
    (IP, FAILED),
    (PENDING, IP),
    (PENDING, FAILED),
}


def payment(status: PaymentStatus = PaymentStatus.IN_PROGRESS) -> AcquiringPayment:
    """A payment in ``status`` (built directly: the table is under test)."""
    return AcquiringPayment(
        id="pm_1",
        status=status,
        created_at=NOW,
        updated_at=NOW,
        amount=Money(10000, "usd"),
        instrument=CARD,
        call=CALL if status is IP else None,
        awaiting=Awaiting.CONFIRM if status is PENDING else None,
    )


def session() -> PaymentSession:
    """A created session."""
    return PaymentSession(
        id="ps_1",
        project_id="pj_1",
        api_version=ApiVersion.V1,
        status=SessionStatus.CREATED,
        created_at=NOW,
        updated_at=NOW,
        draft=SessionDraft(),
    )


def _wait(new: PaymentStatus) -> dict[str, object]:
    if new is IP:
        return {"call": CALL}
    return {"awaiting": Awaiting.CONFIRM} if new is PENDING else {}


def test_the_table_is_the_protocols():
    """NEXT is exactly the explicit table above."""
    assert {(a, b) for a, targets in NEXT.items() for b in targets} == ALLOWED


@given(st.sampled_from(PaymentStatus), st.sampled_from(PaymentStatus))
def test_only_table_moves_are_allowed(old: PaymentStatus, new: PaymentStatus) -> None:
    """transition_to accepts exactly the moves in the table and names both states otherwise."""
    if (old, new) in ALLOWED:
        assert payment(old).transition_to(new, NOW, **_wait(new)).status is new  # type: ignore[arg-type]
    else:
        with pytest.raises(InvalidSessionStatus) as caught:
            payment(old).transition_to(new, NOW, **_wait(new))  # type: ignore[arg-type]
        assert old.value in caught.value.description
        assert new.value in caught.value.description


def test_a_live_payment_must_say_what_it_waits_for():
    """Pending waits on a merchant or customer, in_progress on a processor call; nothing else."""
    with pytest.raises(InvalidSessionStatus, match="pending, and only pending"):
        payment(IP).transition_to(PENDING, NOW)
    with pytest.raises(InvalidSessionStatus, match="in_progress, and only in_progress"):
        payment(PENDING).transition_to(IP, NOW)
    with pytest.raises(InvalidSessionStatus, match="in_progress, and only in_progress"):
        payment(IP).transition_to(OK, NOW, call=CALL)
    with pytest.raises(InvalidSessionStatus, match="pending, and only pending"):
        payment(IP).transition_to(FAILED, NOW, awaiting=Awaiting.CONFIRM)


def test_terminal_payment_statuses_have_no_exit() -> None:
    """Succeeded and failed are terminal."""
    assert NEXT[PaymentStatus.SUCCEEDED] == frozenset()
    assert NEXT[PaymentStatus.FAILED] == frozenset()
    assert REFUND_NEXT[RefundStatus.ACCEPTED] == frozenset()


def test_confirm_needs_a_payment_waiting_for_confirm() -> None:
    """require() refuses an operation the payment is not waiting for."""
    waiting = payment().wait_for(Awaiting.CAPTURE, NOW + timedelta(days=5), NOW)
    waiting.require(Awaiting.CAPTURE, "session/capture")
    with pytest.raises(InvalidSessionStatus, match="waiting for capture"):
        waiting.require(Awaiting.CONFIRM, "session/confirm")
    with pytest.raises(InvalidSessionStatus, match="succeeded"):
        payment().succeed(10000, NOW).require(Awaiting.CONFIRM, "session/confirm")


def test_session_follows_its_payment() -> None:
    """Pending → session in_progress with next_action; succeeded → accepted; failed → cancelled."""
    start = session().with_payment(payment(), NOW)
    assert start.status is SessionStatus.IN_PROGRESS
    deadline = NOW + timedelta(minutes=240)
    waiting = payment().wait_for(Awaiting.CONFIRM, deadline, NOW)
    pending = start.with_payment(waiting, NOW)
    assert pending.next_action == "confirm"
    assert pending.deadline_at == deadline
    capturing = waiting.calling(CallKind.CAPTURE, 10000, NOW, NOW)
    assert capturing.call is not None
    assert capturing.call.key == "pm_1:capture"
    done = pending.with_payment(capturing.succeed(10000, NOW), NOW)
    assert done.status is SessionStatus.ACCEPTED
    assert done.next_action is None
    assert done.deadline_at is None
    assert done.finished_at == NOW
    failed = start.with_payment(payment().fail(PaymentError("x", "y"), NOW), NOW)
    assert failed.status is SessionStatus.CANCELLED


def test_customer_action_sets_no_next_action() -> None:
    """next_action is only confirm or capture; a 3DS wait leaves it absent."""
    waiting = payment().wait_for(Awaiting.CUSTOMER, NOW, NOW, {"type": "redirect"})
    pending = session().with_payment(payment(), NOW).with_payment(waiting, NOW)
    assert pending.next_action is None
    assert pending.deadline_at == NOW


def test_running_refund_puts_session_back_in_progress() -> None:
    """Accepted → in_progress while a refund runs → accepted when it is accepted."""
    done = payment().succeed(10000, NOW)
    accepted = session().with_payment(payment(), NOW).with_payment(done, NOW)
    refund = Refund("rf_1", RefundStatus.IN_PROGRESS, Money(100, "usd"), NOW)
    running = accepted.with_payment(done.with_refund(refund, NOW), NOW)
    assert running.status is SessionStatus.IN_PROGRESS
    finished = refund.transition_to(RefundStatus.ACCEPTED, NOW)
    back = running.with_payment(done.with_refund(finished, NOW), NOW)
    assert back.status is SessionStatus.ACCEPTED
    assert back.payments[0].refundable == 9900


def test_failed_refunds_do_not_count_as_refunded() -> None:
    """Only in_progress and accepted refunds reduce what is refundable."""
    done = payment().succeed(10000, NOW)
    declined = replace(
        Refund("rf_1", RefundStatus.IN_PROGRESS, Money(500, "usd"), NOW),
        status=RefundStatus.DECLINED,
    )
    assert done.with_refund(declined, NOW).refundable == 10000
