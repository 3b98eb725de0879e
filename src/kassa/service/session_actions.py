"""``session/confirm`` and ``session/cancel``: every operation of the session waiting on them.

A session may hold several payments and payouts (``session/multi/init``); confirm and cancel
act on all of them together. Confirm: each payment waiting for confirm is captured, each
payout waiting for confirm goes to the rail. Cancel: each pending payment fails (its hold
released first), each pending payout fails (its reservation returned); a created session with
no operation is cancelled itself. Nothing waiting: ``409 invalid_session_status``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.domain.errors import InvalidSessionStatus
from kassa.domain.operation import Awaiting, CallKind
from kassa.domain.payment import FailureCode, PaymentError, PaymentStatus
from kassa.domain.payout import PayoutStatus
from kassa.domain.session import SessionStatus
from kassa.service.operations import change
from kassa.service.payments import end_waiting

if TYPE_CHECKING:
    from kassa.domain.project import Project
    from kassa.domain.session import PaymentSession
    from kassa.service.commands import SessionAction
    from kassa.service.deps import Deps
    from kassa.service.idempotency import Reply
    from kassa.service.operations import Change


def _nothing_waits(session: PaymentSession, operation: str) -> InvalidSessionStatus:
    """The error a single operation would give (its own message), else a general one."""
    if session.payouts and not session.payments:
        payout = session.payouts[-1]
        return InvalidSessionStatus(
            f"{operation} needs a payout waiting for confirm; payout {payout.id} is {payout.status}"
        )
    try:
        payment = session.require_payment(operation)
        payment.require(Awaiting.CONFIRM, operation)
    except InvalidSessionStatus as exc:
        return exc
    return InvalidSessionStatus(f"{operation}: nothing in session {session.id} waits for it")


async def confirm(deps: Deps, project: Project, cmd: SessionAction) -> Reply:
    """``session/confirm``: capture waiting payments, send waiting payouts to the rail."""

    async def decide(ch: Change) -> None:
        session, recover_at = ch.session, ch.now + deps.acquiring.recovery_after
        payments = [
            p
            for p in session.payments
            if p.status is PaymentStatus.PENDING and p.awaiting is Awaiting.CONFIRM
        ]
        payouts = [p for p in session.payouts if p.status is PayoutStatus.PENDING]
        if not payments and not payouts:
            raise _nothing_waits(session, "session/confirm")
        for payment in payments:
            ch.put(payment.calling(CallKind.CAPTURE, payment.held, ch.now, recover_at))
        for payout in payouts:
            ch.put_payout(payout.paying(ch.now, recover_at))

    return await change(deps, project, decide, cmd.api_version, session_id=cmd.session_id)


async def cancel(deps: Deps, project: Project, cmd: SessionAction) -> Reply:
    """``session/cancel``: cancel a created session, or fail every pending operation."""

    async def decide(ch: Change) -> None:
        session = ch.session
        if not session.payments and not session.payouts:
            ch.replace_session(session.transition_to(SessionStatus.CANCELLED, ch.now))
            return
        payments = [p for p in session.payments if p.status is PaymentStatus.PENDING]
        payouts = [p for p in session.payouts if p.status is PayoutStatus.PENDING]
        if not payments and not payouts:
            last = (session.payouts or session.payments)[-1]
            kind = "payout" if session.payouts and last is session.payouts[-1] else "payment"
            msg = f"session/cancel: {kind} {last.id} is {last.status}, not pending"
            raise InvalidSessionStatus(msg)
        why = PaymentError(FailureCode.CANCELLED.value, "cancelled by session/cancel")
        for payment in payments:
            end_waiting(deps, ch, payment, why)
        for payout in payouts:
            ch.put_payout(payout.fail(why, ch.now))

    return await change(deps, project, decide, cmd.api_version, session_id=cmd.session_id)
