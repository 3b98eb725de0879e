"""The acquiring flow's moves shared by every handler: authorise, capture, release, fail.

Each move changes the payment through its domain methods, appends the balanced ledger
transactions it causes and names the webhook it announces; ``Changes.apply`` then queues all
of it on one unit of work, so the state, the postings and the outbox row commit together.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from urllib.parse import quote

from kassa.domain.errors import InternalError, InvalidRequest
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.ledger import Account, EntryKind, LedgerTransaction, moves, part_account
from kassa.domain.money import Money
from kassa.domain.payment import (
    AcquiringPayment,
    Awaiting,
    FailureCode,
    PaymentError,
    RecurrentInfo,
)
from kassa.domain.recurrent import RecurrentToken
from kassa.domain.split import allocate
from kassa.service.outbox import WebhookType, record_webhook
from kassa.service.ports import AuthorizationRequest, Outcome

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from kassa.domain.json import JSONObject
    from kassa.domain.project import Project
    from kassa.domain.session import PaymentSession
    from kassa.service.deps import Deps
    from kassa.service.ports import Processor, UnitOfWork

HOLDS = Account.HOLDS.value
PAYER = Account.PAYER_FUNDS.value


def processor_of(deps: Deps) -> Processor:
    """The configured processor (bootstrap always sets one)."""
    if deps.processor is None:
        msg = "no processor configured"
        raise InternalError(msg)
    return deps.processor


def requested_minor(requested: Money | None, payment: AcquiringPayment, default: int) -> int:
    """``requested`` (which must be in the payment's currency) in minor units, else ``default``."""
    if requested is None:
        return default
    if requested.currency != payment.amount.currency:
        msg = f"amount_details.currency: must be {payment.amount.currency}"
        raise InvalidRequest(msg)
    return requested.minor


@dataclass(slots=True)
class Changes:
    """What one request does to a session: its new state, postings, tokens and webhooks."""

    session: PaymentSession
    now: datetime
    ledger: list[LedgerTransaction] = field(default_factory=list)
    events: list[WebhookType] = field(default_factory=list)
    tokens: list[RecurrentToken] = field(default_factory=list)

    def put(self, payment: AcquiringPayment) -> AcquiringPayment:
        """Store ``payment`` in the session (whose status follows it); return it."""
        self.session = self.session.with_payment(payment, self.now)
        return payment

    def post(
        self,
        payment: AcquiringPayment,
        kind: EntryKind,
        operation_id: str,
        pairs: Iterable[tuple[str, str, int]],
    ) -> None:
        """Append one balanced transaction of ``(from, to, amount)`` moves, if any."""
        postings = moves(pairs, operation_id)
        if not postings:
            return
        self.ledger.append(
            LedgerTransaction(
                id=new_id(IdPrefix.LEDGER_TRANSACTION),
                project_id=self.session.project_id,
                session_id=self.session.id,
                operation_id=operation_id,
                kind=kind,
                currency=payment.amount.currency,
                created_at=self.now,
                postings=postings,
            ),
        )

    def apply(self, deps: Deps, uow: UnitOfWork, project: Project, *, new: bool = False) -> None:
        """Queue the session, postings, tokens and webhooks on ``uow``."""
        if new:
            uow.add_session(self.session)
        else:
            uow.update_session(self.session)
        for tx in self.ledger:
            uow.add_ledger_transaction(tx)
        for token in self.tokens:
            uow.add_recurrent_token(token)
        for event in self.events:
            record_webhook(deps, uow, project, event, self.session)


def _three_ds_interaction(deps: Deps, payment_id: str, token: str) -> JSONObject:
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


async def authorise(
    deps: Deps,
    project: Project,
    ch: Changes,
    payment: AcquiringPayment,
    pan: str,
) -> AcquiringPayment:
    """Ask the processor; leave the payment waiting for 3DS, confirm or capture, or done."""
    card = payment.instrument.card
    recurrent = payment.instrument.data.get("recurrent")
    initiator = recurrent.get("initiator") if isinstance(recurrent, dict) else None
    answer = await processor_of(deps).authorize(
        AuthorizationRequest(
            operation_id=payment.id,
            pan=pan,
            expiration_month=None if card is None else card.expiration_month,
            expiration_year=None if card is None else card.expiration_year,
            amount=payment.amount,
            initiator=initiator if isinstance(initiator, str) else None,
            three_ds_passed=payment.three_ds_passed,
        ),
    )
    decision, now, policy = answer.decision, ch.now, deps.acquiring
    if decision.outcome is Outcome.CHALLENGE:
        token = secrets.token_urlsafe(24)
        waiting = payment.wait_for(
            Awaiting.CUSTOMER,
            now + policy.action_timeout,
            now,
            _three_ds_interaction(deps, payment.id, token),
        )
        ch.events.append(WebhookType.ACTION_REQUIRED)
        return ch.put(replace(waiting, three_ds_token=token))
    if decision.outcome is Outcome.DECLINED:
        error = PaymentError(decision.code or "declined", decision.description or "declined")
        ch.events.append(WebhookType.PAYMENT_FINISHED)
        return ch.put(payment.fail(error, now))
    ch.post(payment, EntryKind.AUTHORISE, payment.id, [(PAYER, HOLDS, payment.amount.minor)])
    payment = replace(payment, held=payment.amount.minor, transaction_info=answer.transaction_info)
    if project.settings.two_step_capture:
        ch.events.append(WebhookType.READY_TO_CAPTURE)
        return ch.put(payment.wait_for(Awaiting.CAPTURE, now + policy.hold_timeout, now))
    if project.settings.auto_confirm:
        return await capture(deps, ch, payment, payment.amount.minor)
    ch.events.append(WebhookType.READY_TO_CONFIRM)
    return ch.put(payment.wait_for(Awaiting.CONFIRM, now + policy.confirm_timeout, now))


async def capture(
    deps: Deps,
    ch: Changes,
    payment: AcquiringPayment,
    amount: int,
) -> AcquiringPayment:
    """Capture ``amount`` of the hold (split between the parts), release the rest: succeeded."""
    if amount > payment.held:
        msg = f"amount_details.amount: {amount} exceeds the held {payment.held}"
        raise InvalidRequest(msg)
    parts = allocate(amount, payment.splits, "amount_details.amount")
    currency = payment.amount.currency
    await processor_of(deps).capture(payment.id, Money(amount, currency))
    ch.post(
        payment,
        EntryKind.CAPTURE,
        payment.id,
        [(HOLDS, part_account(k), v) for k, v in parts.items()],
    )
    rest = payment.held - amount
    if rest:
        await processor_of(deps).release(payment.id, Money(rest, currency))
        ch.post(payment, EntryKind.RELEASE, payment.id, [(HOLDS, PAYER, rest)])
    done = payment.succeed(amount, ch.now)
    card = payment.instrument.card
    if payment.wants_recurrent and card is not None and payment.instrument.type == "card":
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
    ch.events.append(WebhookType.PAYMENT_FINISHED)
    return ch.put(done)


async def end(
    deps: Deps,
    ch: Changes,
    payment: AcquiringPayment,
    code: FailureCode,
    description: str,
) -> AcquiringPayment:
    """Fail the payment with ``code``, releasing any hold."""
    if payment.held:
        await processor_of(deps).release(payment.id, Money(payment.held, payment.amount.currency))
        ch.post(payment, EntryKind.RELEASE, payment.id, [(HOLDS, PAYER, payment.held)])
    ch.events.append(WebhookType.PAYMENT_FINISHED)
    return ch.put(payment.fail(PaymentError(code.value, description), ch.now))
