"""Acquiring use cases: init/start a card or recurrent payment, confirm, cancel, capture.

The sandbox answers synchronously, so a request's reply already shows the state after its
transaction: ``pending`` (ready_to_confirm / ready_to_capture), ``pending`` with a 3DS
``customer_interaction``, or ``failed``/``succeeded`` with ``payment_finished`` queued.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.domain.card import normalize_pan
from kassa.domain.errors import InvalidRequest, InvalidSessionStatus
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.payment import (
    AcquiringPayment,
    Awaiting,
    FailureCode,
    PaymentDraft,
    PaymentStatus,
)
from kassa.domain.recurrent import Initiator
from kassa.domain.session import (
    ApiVersion,
    Instrument,
    PaymentSession,
    SessionDraft,
    SessionStatus,
)
from kassa.domain.split import allocate, parse_rules
from kassa.service import wire
from kassa.service.acquiring import Changes, authorise, capture, end, requested_minor
from kassa.service.idempotency import Reply, commit_reply
from kassa.service.instruments import resolve_draft
from kassa.service.sessions import load_session, payout_field

if TYPE_CHECKING:
    from kassa.domain.json import JSONObject
    from kassa.domain.project import Project
    from kassa.service.commands import (
        CapturePayment,
        InstrumentInput,
        SessionAction,
        StartPayment,
    )
    from kassa.service.deps import Deps
    from kassa.service.ports import IdempotencyClaim, UnitOfWork

_PROCESSED = frozenset({"card", "recurrent"})
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
    if draft.payment_details.type not in _PROCESSED:
        msg = "payment_details.type: the sandbox processes card and recurrent payments only"
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


async def card_number(
    deps: Deps,
    project_id: str,
    instrument: Instrument,
    given: InstrumentInput | None,
) -> str:
    """The card number for the processor: from this request, else decrypted from the vault."""
    if given is not None and given.bank_card is not None:
        if given.bank_card.expiration_month is None or given.bank_card.expiration_year is None:
            raise InvalidRequest(_NO_EXPIRY)
        return normalize_pan(given.bank_card.number, "payment_details.card.bank_card.number")
    card = instrument.card
    entry = None if card is None else await deps.store.get_vault_entry(project_id, card.number_hash)
    if entry is None:
        msg = "payment_details: the card is not in this project's vault"
        raise InvalidRequest(msg)
    if card is None or card.expiration_month is None or card.expiration_year is None:
        raise InvalidRequest(_NO_EXPIRY)
    return deps.vault.decrypt(entry.ciphertext)


async def _recurrent_instrument(deps: Deps, project_id: str, draft: PaymentDraft) -> Instrument:
    """A recurrent instrument bound to its token's vaulted card; CIT needs a return URL."""
    data = draft.instrument.data.get("recurrent")
    token = data.get("token") if isinstance(data, dict) else None
    initiator = data.get("initiator", Initiator.MERCHANT.value) if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise InvalidRequest("payment_details.recurrent.token: required")
    stored = await deps.store.get_recurrent_token(project_id, token)
    if stored is None:
        raise InvalidRequest("payment_details.recurrent.token: no such recurrent token")
    stored.require_active()
    if initiator == Initiator.CLIENT.value and not (draft.payment_options or {}).get("return_url"):
        msg = "payment_options.return_url: required for a client-initiated recurrent payment"
        raise InvalidRequest(msg)
    entry = await deps.store.get_vault_entry(project_id, stored.number_hash)
    if entry is None:
        raise InvalidRequest("payment_details.recurrent.token: its card left the vault")
    recurrent: JSONObject = {"token": token, "initiator": initiator}
    return Instrument(type="recurrent", card=entry.card, data={"recurrent": recurrent})


async def start_payment(
    deps: Deps,
    project: Project,
    cmd: StartPayment,
    claim: IdempotencyClaim | None,
) -> Reply:
    """``session/init/payment`` or ``session/start/payment``: create the payment, authorise it."""
    now = deps.clock.now()
    async with deps.store.unit_of_work() as uow:
        resolved = await resolve_draft(
            deps, uow, project.id, cmd.draft, payout_field(cmd.api_version)
        )
        if cmd.session_id is None:
            session = PaymentSession(
                id=new_id(IdPrefix.SESSION),
                project_id=project.id,
                api_version=cmd.api_version,
                status=SessionStatus.CREATED,
                created_at=now,
                updated_at=now,
                draft=resolved,
            )
            draft = payment_draft(resolved)
        else:
            session = await load_session(deps, project.id, cmd.session_id)
            if session.status is not SessionStatus.CREATED or session.payments:
                msg = (
                    f"session/start/payment: session {session.id} is {session.status}, not created"
                )
                raise InvalidSessionStatus(msg)
            draft = payment_draft(merge(session.draft, resolved), created=True)
        instrument, given = draft.instrument, cmd.draft.payment_details
        if instrument.type == "recurrent":
            instrument, given = await _recurrent_instrument(deps, project.id, draft), None
        pan = await card_number(deps, project.id, instrument, given)
        payment = AcquiringPayment(
            id=new_id(IdPrefix.PAYMENT),
            status=PaymentStatus.IN_PROGRESS,
            created_at=now,
            updated_at=now,
            amount=draft.amount,
            instrument=instrument,
            customer=draft.customer,
            participant_details=draft.participant_details,
            payment_options=draft.payment_options,
            metadata=draft.metadata,
            has_metadata=draft.has_metadata,
            splits=draft.splits,
        )
        changes = Changes(session, now)
        await authorise(deps, project, changes, changes.put(payment), pan)
        changes.apply(deps, uow, project, new=cmd.session_id is None)
        return await finish(uow, changes.session, cmd.api_version, claim)


async def finish(
    uow: UnitOfWork,
    session: PaymentSession,
    version: ApiVersion,
    claim: IdempotencyClaim | None,
) -> Reply:
    """Render the reply in ``version``'s names, store it under the key, commit everything."""
    return await commit_reply(
        uow, Reply(200, wire.session_reply(session, version), session.id), claim
    )


async def confirm(
    deps: Deps, project: Project, cmd: SessionAction, claim: IdempotencyClaim | None
) -> Reply:
    """``session/confirm``: capture the authorised amount of a ready_to_confirm payment."""
    now = deps.clock.now()
    async with deps.store.unit_of_work() as uow:
        session = await load_session(deps, project.id, cmd.session_id)
        payment = session.require_payment("session/confirm")
        payment.require(Awaiting.CONFIRM, "session/confirm")
        changes = Changes(session, now)
        await capture(deps, changes, changes.put(payment.resume(now)), payment.held)
        changes.apply(deps, uow, project)
        return await finish(uow, changes.session, cmd.api_version, claim)


async def cancel(
    deps: Deps, project: Project, cmd: SessionAction, claim: IdempotencyClaim | None
) -> Reply:
    """``session/cancel``: cancel a created session, or fail a pending payment (hold released)."""
    now = deps.clock.now()
    async with deps.store.unit_of_work() as uow:
        session = await load_session(deps, project.id, cmd.session_id)
        changes = Changes(session, now)
        payment = session.payment
        if payment is None:
            changes.session = session.transition_to(SessionStatus.CANCELLED, now)
        else:
            if payment.status is not PaymentStatus.PENDING:
                msg = f"session/cancel: payment {payment.id} is {payment.status}, not pending"
                raise InvalidSessionStatus(msg)
            await end(deps, changes, payment, FailureCode.CANCELLED, "cancelled by session/cancel")
        changes.apply(deps, uow, project)
        return await finish(uow, changes.session, cmd.api_version, claim)


async def capture_payment(
    deps: Deps, project: Project, cmd: CapturePayment, claim: IdempotencyClaim | None
) -> Reply:
    """``session/capture``: the whole hold, or part of it (the rest is released)."""
    now = deps.clock.now()
    async with deps.store.unit_of_work() as uow:
        session = await load_session(deps, project.id, cmd.session_id)
        payment = session.require_payment("session/capture")
        payment.require(Awaiting.CAPTURE, "session/capture")
        amount = requested_minor(cmd.amount, payment, payment.held)
        changes = Changes(session, now)
        await capture(deps, changes, changes.put(payment.resume(now)), amount)
        changes.apply(deps, uow, project)
        return await finish(uow, changes.session, cmd.api_version, claim)
