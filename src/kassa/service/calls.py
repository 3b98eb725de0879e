"""Processor calls: how each pending call is asked, and what its answer does to the operation.

``ask`` runs outside any transaction, with the call's key; ``record`` runs inside the second
transaction of ``service/operations.py`` and only moves the operation through its domain
methods (``Change.put`` brings the webhooks and postings).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import quote

from kassa.domain.errors import InternalError, InvalidRequest
from kassa.domain.instrument import (
    FasterPaymentAccount,
    FpsVerification,
    GlobalBankAccount,
    GlobalWallet,
    PayoutCard,
)
from kassa.domain.money import Money
from kassa.domain.operation import Awaiting, CallKind
from kassa.domain.payment import PaymentError, RecurrentInfo
from kassa.domain.payout import Payout
from kassa.domain.recurrent import RecurrentToken
from kassa.domain.refund import RefundStatus
from kassa.service.ports import (
    Authorization,
    AuthorizationRequest,
    Outcome,
    PayeeKind,
    PayoutAnswer,
    PayoutRequest,
    RefundAnswer,
)

if TYPE_CHECKING:
    from kassa.domain.instrument import Sealed
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


def unseal(deps: Deps, value: Sealed) -> str:
    """A sealed destination value in clear, for one processor call."""
    return deps.vault.decrypt(base64.b64decode(value.ciphertext))


async def _payee(deps: Deps, project_id: str, payout: Payout) -> tuple[PayeeKind, str]:
    target = payout.destination
    if isinstance(target, PayoutCard):
        entry = await deps.store.get_vault_entry(project_id, target.card.number_hash)
        if entry is None:
            msg = "payment_method: the card is not in this project's vault"
            raise InvalidRequest(msg)
        return PayeeKind.CARD, deps.vault.decrypt(entry.ciphertext)
    if isinstance(target, GlobalBankAccount):
        sealed = target.account_number or target.iban or target.bank_account_number
        return PayeeKind.BANK_ACCOUNT, "" if sealed is None else unseal(deps, sealed)
    if isinstance(target, FasterPaymentAccount) and target.phone is not None:
        return PayeeKind.FPS, unseal(deps, target.phone)
    if isinstance(target, GlobalWallet) and target.msisdn is not None:
        return PayeeKind.WALLET, unseal(deps, target.msisdn)
    msg = f"no payout rail for {type(target).__name__}"
    raise InternalError(msg)


async def ask_payout(
    deps: Deps, session: PaymentSession, payout: Payout, call: PendingCall
) -> PayoutAnswer | bool:
    """Make a payout's call (pay out, or verify an FPS phone) with its key."""
    processor = processor_of(deps)
    target = payout.destination
    if call.kind is CallKind.VERIFY and isinstance(target, FpsVerification):
        if target.phone is None or target.bank_id is None:  # checked before the intent
            msg = f"payout {payout.id}: verification without phone or bank"
            raise InternalError(msg)
        phone = unseal(deps, target.phone)
        return await processor.verify_fps(call.key, payout.id, phone, target.bank_id)
    kind, identifier = await _payee(deps, session.project_id, payout)
    request = PayoutRequest(payout.id, kind, identifier, payout.amount)
    return await processor.payout(call.key, request)


async def ask(
    deps: Deps, session: PaymentSession, payment: AcquiringPayment | Payout, call: PendingCall
) -> Authorization | RefundAnswer | PayoutAnswer | bool | None:
    """Make ``call`` at the processor (with its key); its answer, not yet recorded."""
    if isinstance(payment, Payout):
        return await ask_payout(deps, session, payment, call)
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


def _paid_out(ch: Change, payout: Payout, call: PendingCall, answer: object) -> None:
    if call.kind is CallKind.VERIFY and isinstance(answer, bool):
        if answer:
            ch.put_payout(payout.succeed(None, ch.now))
        else:
            why = PaymentError("customer_not_registered", "the phone is not registered in FPS")
            ch.put_payout(payout.fail(why, ch.now))
    elif call.kind is CallKind.PAYOUT and isinstance(answer, PayoutAnswer):
        if answer.accepted:
            ch.put_payout(payout.succeed(answer.transaction_info, ch.now))
        else:
            why = PaymentError(answer.code or "declined", answer.description or "declined")
            ch.put_payout(payout.fail(why, ch.now))
    else:
        msg = f"cannot record {call.kind} with {type(answer).__name__}"
        raise InternalError(msg)


async def record(
    deps: Deps,
    ch: Change,
    payment: AcquiringPayment | Payout,
    call: PendingCall,
    answer: object,
) -> None:
    """What the processor's ``answer`` to ``call`` does to the operation (or its refund)."""
    if isinstance(payment, Payout):
        _paid_out(ch, payment, call, answer)
    elif call.kind is CallKind.AUTHORIZE and isinstance(answer, Authorization):
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
