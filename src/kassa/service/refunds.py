"""Refunds and chargebacks of a captured payment; split parts give back pro rata.

The sandbox refunds synchronously: within the request the refund is created ``in_progress``
(session ``accepted → in_progress``), the processor accepts it, and the refund ends
``accepted`` (session back to ``accepted``) with ``payment_refunded`` queued.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kassa.domain.errors import InvalidRequest, InvalidSessionStatus, RefundAmountExceeded
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.ledger import Account, EntryKind, part_account
from kassa.domain.money import Money
from kassa.domain.payment import AcquiringPayment, PaymentStatus
from kassa.domain.refund import Refund, RefundStatus, check_refund_amount
from kassa.domain.split import allocate, reversal
from kassa.service.acquiring import Changes, processor_of, requested_minor
from kassa.service.outbox import WebhookType
from kassa.service.payments import finish
from kassa.service.sessions import load_session

if TYPE_CHECKING:
    from kassa.domain.json import JSON
    from kassa.domain.project import Project
    from kassa.domain.session import PaymentSession
    from kassa.service.commands import RefundPayment
    from kassa.service.deps import Deps
    from kassa.service.idempotency import Reply
    from kassa.service.ports import IdempotencyClaim


def refundable_payment(session: PaymentSession, operation: str) -> AcquiringPayment:
    """The session's succeeded payment, or ``InvalidSessionStatus``."""
    payment = session.require_payment(operation)
    if payment.status is not PaymentStatus.SUCCEEDED:
        msg = f"{operation}: payment {payment.id} is {payment.status}, not succeeded"
        raise InvalidSessionStatus(msg)
    return payment


async def give_back(
    deps: Deps,
    changes: Changes,
    payment: AcquiringPayment,
    amount: int,
    *,
    chargeback: bool = False,
    metadata: JSON = None,
    has_metadata: bool = False,
) -> AcquiringPayment:
    """Refund ``amount`` (``in_progress`` → ``accepted``), reversing split parts pro rata."""
    now = changes.now
    refund = Refund(
        id=new_id(IdPrefix.REFUND),
        status=RefundStatus.IN_PROGRESS,
        amount=Money(amount, payment.amount.currency),
        created_at=now,
        is_chargeback=chargeback,
        metadata=metadata,
        has_metadata=has_metadata,
    )
    before = payment.refunded
    payment = changes.put(payment.with_refund(refund, now))
    info = await processor_of(deps).refund(refund.id, refund.amount)
    parts = allocate(payment.captured, payment.splits)
    back = reversal(parts, before, before + amount)
    changes.post(
        payment,
        EntryKind.CHARGEBACK if chargeback else EntryKind.REFUND,
        refund.id,
        [(part_account(k), Account.PAYER_FUNDS.value, v) for k, v in back.items()],
    )
    accepted = replace(refund.transition_to(RefundStatus.ACCEPTED, now), transaction_info=info)
    payment = payment.with_refund(accepted, now)
    changes.events.append(WebhookType.PAYMENT_REFUNDED)
    return changes.put(payment)


async def refund_payment(
    deps: Deps,
    project: Project,
    cmd: RefundPayment,
    claim: IdempotencyClaim | None,
) -> Reply:
    """``session/refund``: the rest of the captured amount, or ``amount`` of it."""
    now = deps.clock.now()
    async with deps.store.unit_of_work() as uow:
        session = await load_session(deps, project.id, cmd.session_id)
        payment = refundable_payment(session, "session/refund")
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
        changes = Changes(session, now)
        await give_back(
            deps,
            changes,
            payment,
            amount,
            metadata=cmd.metadata,
            has_metadata=cmd.has_metadata,
        )
        changes.apply(deps, uow, project)
        return await finish(uow, changes.session, cmd.api_version, claim)


async def chargeback(deps: Deps, payment_id: str) -> PaymentSession:
    """A sandbox chargeback of everything still refundable; ``payment_refunded`` is queued."""
    now = deps.clock.now()
    async with deps.store.unit_of_work() as uow:
        session = await deps.store.find_session_by_payment(payment_id)
        project = None if session is None else await deps.store.get_project(session.project_id)
        if session is None or project is None:
            msg = f"payment {payment_id} not found"
            raise InvalidRequest(msg)
        payment = refundable_payment(session, "chargeback")
        if payment.refundable <= 0:
            msg = f"chargeback: payment {payment_id} has nothing left to charge back"
            raise InvalidSessionStatus(msg)
        changes = Changes(session, now)
        await give_back(deps, changes, payment, payment.refundable, chargeback=True)
        changes.apply(deps, uow, project)
        await uow.commit()
        return changes.session
