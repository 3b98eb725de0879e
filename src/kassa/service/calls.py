"""Processor calls: how each pending call is asked, and what its answer does to the operation.

``ask`` runs outside any transaction, with the call's key; ``record`` runs inside the second
transaction of ``service/operations.py`` and only moves the operation through its domain
methods (``Change.put`` brings the webhooks and postings).
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import quote

from kassa.domain.errors import InternalError, InvalidRequest
from kassa.domain.money import Money
from kassa.domain.operation import Awaiting, CallKind
from kassa.domain.payment import PaymentError, RecurrentInfo
from kassa.domain.recurrent import RecurrentToken
from kassa.domain.refund import RefundStatus
from kassa.service.ports import Authorization, AuthorizationRequest, Outcome, RefundAnswer

if TYPE_CHECKING:
    from kassa.domain.json import JSONObject
    from kassa.domain.operation import PendingCall
    from kassa.domain.payment import AcquiringPayment
    from kassa.domain.session import PaymentSession
    from kassa.service.deps import Deps
    from kassa.service.operations import Change
    from kassa.service.ports import Processor


def processor_of(deps: Deps) -> Processor:
    """The configured processor (bootstrap always sets one)."""
    if deps.processor is None:
        msg = "no processor configured"
        raise InternalError(msg)
    return deps.processor


async def card_number(deps: Deps, project_id: str, payment: AcquiringPayment) -> str:
    """The payment's card number, decrypted from the project's vault for this call only."""
    card = payment.card
    entry = None if card is None else await deps.store.get_vault_entry(project_id, card.number_hash)
    if entry is None:
        msg = "payment_details: the card is not in this project's vault"
        raise InvalidRequest(msg)
    return deps.vault.decrypt(entry.ciphertext)


async def ask(
    deps: Deps, session: PaymentSession, payment: AcquiringPayment, call: PendingCall
) -> Authorization | RefundAnswer | None:
    """Make ``call`` at the processor (with its key); its answer, not yet recorded."""
    processor = processor_of(deps)
    money = Money(call.amount, payment.amount.currency)
    if call.kind is CallKind.AUTHORIZE:
        card = payment.card
        request = AuthorizationRequest(
            operation_id=payment.id,
            pan=await card_number(deps, session.project_id, payment),
            expiration_month=None if card is None else card.expiration_month,
            expiration_year=None if card is None else card.expiration_year,
            amount=money,
            initiator=payment.initiator,
            three_ds_passed=payment.three_ds_passed,
        )
        return await processor.authorize(call.key, request)
    if call.kind is CallKind.CAPTURE:
        await processor.capture(call.key, payment.id, money)
        return None
    if call.kind is CallKind.RELEASE:
        await processor.release(call.key, payment.id, money)
        return None
    if call.kind is CallKind.REFUND:
        refund = next(r for r in payment.refunds if r.call is not None and r.call.key == call.key)
        return await processor.refund(call.key, refund.id, money)
    msg = f"no processor call {call.kind} for a payment"
    raise InternalError(msg)


def three_ds_interaction(deps: Deps, payment_id: str, token: str) -> JSONObject:
    """The ``customer_interaction`` redirect to the sandbox 3DS page."""
    base = f"{deps.acquiring.base_url}/3ds/{payment_id}"
    qs: JSONObject = {"token": token}
    return {
        "type": "redirect",
        "redirect": {
            "url": f"{base}?token={quote(token)}",
            "base_url": base,
            "method": "GET",
            "qs": qs,
        },
    }


def _authorised(deps: Deps, ch: Change, payment: AcquiringPayment, answer: Authorization) -> None:
    now, policy, settings = ch.now, deps.acquiring, ch.project.settings
    decision = answer.decision
    if decision.outcome is Outcome.CHALLENGE:
        token = secrets.token_urlsafe(24)
        waiting = payment.wait_for(
            Awaiting.CUSTOMER,
            now + policy.action_timeout,
            now,
            three_ds_interaction(deps, payment.id, token),
        )
        ch.put(replace(waiting, three_ds_token=token))
        return
    if decision.outcome is Outcome.DECLINED:
        error = PaymentError(decision.code or "declined", decision.description or "declined")
        ch.put(payment.fail(error, now))
        return
    held = payment.authorised(answer.transaction_info)
    if settings.two_step_capture:
        ch.put(held.wait_for(Awaiting.CAPTURE, now + policy.hold_timeout, now))
    elif settings.auto_confirm:
        ch.put(held.calling(CallKind.CAPTURE, held.held, now, now + policy.recovery_after))
    else:
        ch.put(held.wait_for(Awaiting.CONFIRM, now + policy.confirm_timeout, now))


def _captured(ch: Change, payment: AcquiringPayment, call: PendingCall) -> None:
    done = payment.succeed(call.amount, ch.now)
    card = payment.card
    if payment.wants_recurrent and card is not None and payment.initiator is None:
        token = RecurrentToken(
            token=secrets.token_hex(32),
            project_id=ch.session.project_id,
            session_id=ch.session.id,
            payment_id=payment.id,
            number_hash=card.number_hash,
            created_at=ch.now,
        )
        ch.tokens.append(token)
        done = replace(done, recurrent=RecurrentInfo(token.token, token.created_at))
    ch.put(done)


async def record(
    deps: Deps,
    ch: Change,
    payment: AcquiringPayment,
    call: PendingCall,
    answer: object,
) -> None:
    """What the processor's ``answer`` to ``call`` does to the payment (or its refund)."""
    if call.kind is CallKind.AUTHORIZE and isinstance(answer, Authorization):
        _authorised(deps, ch, payment, answer)
    elif call.kind is CallKind.CAPTURE:
        _captured(ch, payment, call)
    elif call.kind is CallKind.RELEASE:
        why = payment.closing or PaymentError("cancelled", "cancelled")
        ch.put(payment.fail(why, ch.now))
    elif call.kind is CallKind.REFUND and isinstance(answer, RefundAnswer):
        refund = next(r for r in payment.refunds if r.call is not None and r.call.key == call.key)
        status = RefundStatus.ACCEPTED if answer.accepted else RefundStatus.DECLINED
        done = replace(
            refund.transition_to(status, ch.now), transaction_info=answer.transaction_info
        )
        ch.put(payment.with_refund(done, ch.now))
    else:
        msg = f"cannot record {call.kind} with {type(answer).__name__}"
        raise InternalError(msg)
