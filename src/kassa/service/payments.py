"""Acquiring use cases: init/start a card or recurrent payment, confirm, cancel, capture.

Each is only its decision; ``service/operations.py:change`` loads, applies, calls the processor
after the intent commit and records its answer. The sandbox answers at once, so a reply already
shows the state after the call: ``pending`` (ready_to_confirm / ready_to_capture), ``pending``
with a 3DS ``customer_interaction``, or ``failed``/``succeeded`` with ``payment_finished``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kassa.domain.errors import InvalidRequest, InvalidSessionStatus
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.instrument import RecurrentCharge, UnprocessedMethod
from kassa.domain.operation import Awaiting, CallKind, PendingCall, call_key
from kassa.domain.payment import (
    AcquiringPayment,
    PaymentDraft,
    PaymentError,
    PaymentStatus,
)
from kassa.domain.recurrent import Initiator
from kassa.domain.session import SessionDraft, SessionStatus
from kassa.domain.split import allocate, parse_rules
from kassa.service.instruments import resolve_draft
from kassa.service.operations import change
from kassa.service.sessions import blank_session, payout_field

if TYPE_CHECKING:
    from datetime import datetime

    from kassa.domain.money import Money
    from kassa.domain.project import Project
    from kassa.service.commands import CapturePayment, StartPayment
    from kassa.service.deps import Deps
    from kassa.service.idempotency import Reply
    from kassa.service.operations import Change

_NO_EXPIRY = "payment_details.card.bank_card.expiration_month: required for a payment"


def merge(created: SessionDraft, given: SessionDraft) -> SessionDraft:
    """Data given at start wins over data given at create; absent fields keep create's."""
    return SessionDraft(
        amount=given.amount or created.amount,
        payment_details=given.payment_details or created.payment_details,
        payout_details=created.payout_details,
        customer=given.customer if given.customer is not None else created.customer,
        participant_details=given.participant_details or created.participant_details,
        payment_options=given.payment_options or created.payment_options,
        metadata=given.metadata if given.has_metadata else created.metadata,
        has_metadata=given.has_metadata or created.has_metadata,
        extra={**created.extra, **given.extra},
    )


def payment_draft(draft: SessionDraft, *, created: bool = False) -> PaymentDraft:
    """The payment's data, or ``invalid_request`` naming the first missing field.

    ``created``: the data merges a start request over session/create's (said in the message).
    """
    why = " (not given at session/create either)" if created else ""
    if draft.amount is None:
        raise InvalidRequest(f"amount_details: required{why}")
    if draft.payment_details is None:
        raise InvalidRequest(f"payment_details: required{why}")
    if isinstance(draft.payment_details, UnprocessedMethod):
        msg = "payment_details.type: the sandbox processes card and recurrent payments only"
        if draft.payment_details.type == "card":
            msg = "payment_details.card.type: the sandbox processes bank_card and encrypted_card"
        raise InvalidRequest(msg)
    reference = (draft.customer or {}).get("reference")
    if not isinstance(reference, str) or not reference:
        raise InvalidRequest(f"customer.reference: required for a payment{why}")
    splits = parse_rules(draft.extra.get("revenue_split_info"))
    allocate(draft.amount.minor, splits, "revenue_split_info")
    return PaymentDraft(
        amount=draft.amount,
        instrument=draft.payment_details,
        customer=draft.customer or {},
        participant_details=draft.participant_details,
        payment_options=draft.payment_options,
        metadata=draft.metadata,
        has_metadata=draft.has_metadata,
        splits=splits,
    )


async def bound_instrument(deps: Deps, project_id: str, draft: PaymentDraft) -> PaymentDraft:
    """The draft with its card checked: a vaulted card with an expiry, or an active token's."""
    instrument = draft.instrument
    if isinstance(instrument, RecurrentCharge):
        stored = await deps.store.get_recurrent_token(project_id, instrument.token)
        if stored is None:
            raise InvalidRequest("payment_details.recurrent.token: no such recurrent token")
        stored.require_active()
        options = draft.payment_options or {}
        if instrument.initiator is Initiator.CLIENT and not options.get("return_url"):
            msg = "payment_options.return_url: required for a client-initiated recurrent payment"
            raise InvalidRequest(msg)
        entry = await deps.store.get_vault_entry(project_id, stored.number_hash)
        if entry is None:
            raise InvalidRequest("payment_details.recurrent.token: its card left the vault")
        bound = RecurrentCharge(instrument.token, instrument.initiator, entry.card)
        return replace(draft, instrument=bound)
    card = getattr(instrument, "card", None)
    if card is None or card.expiration_month is None or card.expiration_year is None:
        raise InvalidRequest(_NO_EXPIRY)
    return draft


def new_payment(draft: PaymentDraft, now: datetime, recover_at: datetime) -> AcquiringPayment:
    """A payment ``in_progress``, waiting on its first authorisation."""
    payment_id = new_id(IdPrefix.PAYMENT)
    return AcquiringPayment(
        id=payment_id,
        status=PaymentStatus.IN_PROGRESS,
        created_at=now,
        updated_at=now,
        amount=draft.amount,
        instrument=draft.instrument,
        customer=draft.customer,
        participant_details=draft.participant_details,
        payment_options=draft.payment_options,
        metadata=draft.metadata,
        has_metadata=draft.has_metadata,
        splits=draft.splits,
        call=PendingCall(
            CallKind.AUTHORIZE,
            call_key(payment_id, CallKind.AUTHORIZE),
            draft.amount.minor,
            recover_at,
        ),
        authorizations=1,
    )


async def start_payment(deps: Deps, project: Project, cmd: StartPayment) -> Reply:
    """``session/init/payment`` or ``session/start/payment``: create the payment, authorise it."""
    now = deps.clock.now()

    async def decide(ch: Change) -> None:
        resolved = await resolve_draft(
            deps, ch.uow, project.id, cmd.draft, payout_field(cmd.api_version)
        )
        if cmd.session_id is None:
            ch.session = replace(ch.session, draft=resolved)
            draft = payment_draft(resolved)
        else:
            session = ch.session
            if session.status is not SessionStatus.CREATED or session.payments:
                msg = (
                    f"session/start/payment: session {session.id} is {session.status}, not created"
                )
                raise InvalidSessionStatus(msg)
            draft = payment_draft(merge(session.draft, resolved), created=True)
        draft = await bound_instrument(deps, project.id, draft)
        ch.put(new_payment(draft, ch.now, ch.now + deps.acquiring.recovery_after))

    if cmd.session_id is None:
        session_id = new_id(IdPrefix.SESSION)
        return await change(
            deps,
            project,
            decide,
            cmd.api_version,
            new_session=lambda: blank_session(session_id, project.id, cmd.api_version, now),
        )
    return await change(deps, project, decide, cmd.api_version, session_id=cmd.session_id)


def requested_minor(requested: Money | None, payment: AcquiringPayment, default: int) -> int:
    """``requested`` (which must be in the payment's currency) in minor units, else ``default``."""
    if requested is None:
        return default
    if requested.currency != payment.amount.currency:
        msg = f"amount_details.currency: must be {payment.amount.currency}"
        raise InvalidRequest(msg)
    return requested.minor


def end_waiting(deps: Deps, ch: Change, payment: AcquiringPayment, why: PaymentError) -> None:
    """Fail a pending payment with ``why``: release its hold first, if it holds money."""
    if payment.held:
        ch.put(payment.releasing(why, ch.now, ch.now + deps.acquiring.recovery_after))
    else:
        ch.put(payment.fail(why, ch.now))


async def capture_payment(deps: Deps, project: Project, cmd: CapturePayment) -> Reply:
    """``session/capture``: the whole hold, or part of it (the rest is released)."""

    async def decide(ch: Change) -> None:
        payment = ch.session.require_payment("session/capture")
        payment.require(Awaiting.CAPTURE, "session/capture")
        amount = requested_minor(cmd.amount, payment, payment.held)
        if amount > payment.held:
            msg = f"amount_details.amount: {amount} exceeds the held {payment.held}"
            raise InvalidRequest(msg)
        allocate(amount, payment.splits, "amount_details.amount")
        recover_at = ch.now + deps.acquiring.recovery_after
        ch.put(payment.calling(CallKind.CAPTURE, amount, ch.now, recover_at))

    return await change(deps, project, decide, cmd.api_version, session_id=cmd.session_id)
