"""The acquiring payment's transition table, its guard, and the session status that follows it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kassa.domain.errors import InvalidSessionStatus
from kassa.domain.money import Money
from kassa.domain.payment import (
    NEXT,
    AcquiringPayment,
    Awaiting,
    PaymentError,
    PaymentStatus,
)
from kassa.domain.refund import NEXT as REFUND_NEXT
from kassa.domain.refund import Refund, RefundStatus
from kassa.domain.session import (
    ApiVersion,
    CardRef,
    Instrument,
    PaymentSession,
    SessionDraft,
    SessionStatus,
)

NOW = datetime(2024, 5, 27, tzinfo=UTC)
CARD = Instrument("card", card=CardRef("h", "visa", "4242", "424242", "12", "30"))


def payment(status: PaymentStatus = PaymentStatus.IN_PROGRESS) -> AcquiringPayment:
    """A payment in ``status`` (built directly: the table is under test)."""
    return AcquiringPayment(
        id="pm_1",
        status=status,
        created_at=NOW,
        updated_at=NOW,
        amount=Money(10000, "usd"),
        instrument=CARD,
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


@given(st.sampled_from(PaymentStatus), st.sampled_from(PaymentStatus))
def test_only_table_moves_are_allowed(old: PaymentStatus, new: PaymentStatus) -> None:
    """transition_to accepts exactly the moves in NEXT and names both states otherwise."""
    if new in NEXT[old]:
        assert payment(old).transition_to(new, NOW).status is new
    else:
        with pytest.raises(InvalidSessionStatus) as caught:
            payment(old).transition_to(new, NOW)
        assert old.value in caught.value.description
        assert new.value in caught.value.description


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
    done = pending.with_payment(waiting.resume(NOW).succeed(10000, NOW), NOW)
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
