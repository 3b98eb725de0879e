"""Refunds and chargebacks of a captured payment; split parts give back pro rata.

A refund is created ``in_progress`` waiting on its processor call (session ``accepted →
in_progress``); the sandbox accepts it and the refund ends ``accepted`` (session back to
``accepted``) with ``payment_refunded``. The pro-rata reversal of split parts is in
``domain/transitions.py``. A chargeback asks nobody: it is created ``accepted``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.domain.errors import (
    AuthorizationError,
    InvalidRequest,
    InvalidSessionStatus,
    RefundAmountExceeded,
)
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.money import Money
from kassa.domain.operation import CallKind, PendingCall, call_key
from kassa.domain.payment import AcquiringPayment, PaymentStatus
from kassa.domain.refund import Refund, RefundStatus, check_refund_amount
from kassa.service import wire
from kassa.service.calls import processor_of
from kassa.service.idempotency import Reply
from kassa.service.operations import change, change_session, load_session
from kassa.service.payments import requested_minor

if TYPE_CHECKING:
    from kassa.domain.project import Project
    from kassa.domain.session import PaymentSession
    from kassa.service.commands import RefundPayment, SessionAction
    from kassa.service.deps import Deps
    from kassa.service.operations import Change


def refundable_payment(session: PaymentSession, operation: str) -> AcquiringPayment:
    """The session's succeeded payment, or ``InvalidSessionStatus``."""
    payment = session.require_payment(operation)
    if payment.status is not PaymentStatus.SUCCEEDED:
        msg = f"{operation}: payment {payment.id} is {payment.status}, not succeeded"
        raise InvalidSessionStatus(msg)
    return payment


async def refund_payment(deps: Deps, project: Project, cmd: RefundPayment) -> Reply:
    """``session/refund``: the rest of the captured amount, or ``amount`` of it."""

    async def decide(ch: Change) -> None:
        payment = refundable_payment(ch.session, "session/refund")
        amount = requested_minor(cmd.amount, payment, payment.refundable)
        if amount <= 0:
            msg = f"payment {payment.id}: nothing left to refund"
            raise RefundAmountExceeded(msg)
        check_refund_amount(
            amount,
            payment.refundable,
            partial_allowed=project.settings.partial_refunds,
            captured=payment.captured,
        )
        refund_id = new_id(IdPrefix.REFUND)
        refund = Refund(
            id=refund_id,
            status=RefundStatus.IN_PROGRESS,
            amount=Money(amount, payment.amount.currency),
            created_at=ch.now,
            metadata=cmd.metadata,
            has_metadata=cmd.has_metadata,
            call=PendingCall(
                CallKind.REFUND,
                call_key(refund_id, CallKind.REFUND),
                amount,
                ch.now + deps.acquiring.recovery_after,
            ),
        )
        ch.put(payment.with_refund(refund, ch.now))

    return await change(deps, project, decide, cmd.api_version, session_id=cmd.session_id)


async def chargeback(deps: Deps, payment_id: str) -> PaymentSession:
    """A sandbox chargeback of everything still refundable; ``payment_refunded`` is queued.

    The processor reports it first (outside any transaction); kassa then records the refund,
    ``accepted`` at once, with the processor's references.
    """
    session = await deps.store.find_session_by_payment(payment_id)
    project = None if session is None else await deps.store.get_project(session.project_id)
    if session is None or project is None:
        msg = f"payment {payment_id} not found"
        raise InvalidRequest(msg)
    payment = refundable_payment(session, "chargeback")
    amount = payment.refundable
    if amount <= 0:
        msg = f"chargeback: payment {payment_id} has nothing left to charge back"
        raise InvalidSessionStatus(msg)
    refund_id = new_id(IdPrefix.REFUND)
    money = Money(amount, payment.amount.currency)
    info = await processor_of(deps).chargeback(f"{refund_id}:chargeback", payment_id, money)

    async def decide(ch: Change) -> None:
        current = refundable_payment(ch.session, "chargeback")
        if current.refundable < amount:
            msg = f"chargeback: payment {payment_id} was refunded meanwhile"
            raise InvalidSessionStatus(msg)
        refund = Refund(
            id=refund_id,
            status=RefundStatus.ACCEPTED,
            amount=money,
            created_at=ch.now,
            finished_at=ch.now,
            is_chargeback=True,
            transaction_info=info,
        )
        ch.put(current.with_refund(refund, ch.now))

    return await change_session(deps, project, decide, session.api_version, session_id=session.id)


async def chargeback_session(deps: Deps, project: Project, cmd: SessionAction) -> Reply:
    """``session/chargeback`` (sandbox only): the session's succeeded payment is charged back."""
    if not deps.acquiring.sandbox:
        msg = "session/chargeback: only the sandbox simulates chargebacks"
        raise AuthorizationError(msg)
    session = await load_session(deps, project.id, cmd.session_id)
    payment = refundable_payment(session, "session/chargeback")
    done = await chargeback(deps, payment.id)
    return Reply(200, wire.session_reply(done, cmd.api_version), done.id)
