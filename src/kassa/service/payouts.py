"""Payout use cases: init/start a payout from the prefunded wallet (confirm/cancel are shared).

A payout reserves its amount in the intent transaction (``payout_wallet → in_flight``, a
guarded debit: a wallet that cannot cover it is ``422 insufficient_funds`` and nothing is
created); then it waits for ``session/confirm`` (``ready_to_confirm``), or — for an
``auto_confirm`` project — goes straight to the rail. The rail's answer settles the
reservation to the payee or returns it to the wallet (``domain/payout.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kassa.domain.errors import InvalidRequest, InvalidSessionStatus
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.instrument import (
    FasterPaymentAccount,
    FpsVerification,
    GlobalBankAccount,
    GlobalWallet,
    PayoutCard,
)
from kassa.domain.participants import check_participants
from kassa.domain.payout import new_payout
from kassa.domain.session import PaymentSession, SessionDraft, SessionStatus
from kassa.service.calls import processor_of
from kassa.service.instruments import resolve_draft
from kassa.service.operations import change
from kassa.service.sessions import blank_session, payout_field

if TYPE_CHECKING:
    from datetime import datetime

    from kassa.domain.json import JSON, JSONObject
    from kassa.domain.money import Money
    from kassa.domain.payout import Payout
    from kassa.domain.project import Project
    from kassa.service.commands import StartPayout
    from kassa.service.deps import Deps
    from kassa.service.idempotency import Reply
    from kassa.service.operations import Change

PAYABLE = (
    "the sandbox pays out to card, bank_account (global, faster_payment_system) and wallet (global)"
)


@dataclass(frozen=True, slots=True)
class PayoutDraft:
    """Everything a payout needs, after create and start data were merged and checked."""

    amount: Money
    destination: (
        PayoutCard | GlobalBankAccount | FasterPaymentAccount | GlobalWallet | FpsVerification
    )
    customer: JSONObject | None
    participant_details: JSONObject | None
    metadata: JSON
    has_metadata: bool


def merge(created: SessionDraft, given: SessionDraft) -> SessionDraft:
    """Start data wins over create data, field by field (as for payments)."""
    return SessionDraft(
        amount=given.amount or created.amount,
        payment_details=created.payment_details,
        payout_details=given.payout_details or created.payout_details,
        customer=given.customer if given.customer is not None else created.customer,
        participant_details=given.participant_details or created.participant_details,
        payment_options=given.payment_options or created.payment_options,
        metadata=given.metadata if given.has_metadata else created.metadata,
        has_metadata=given.has_metadata or created.has_metadata,
        extra={**created.extra, **given.extra},
    )


Payable = PayoutCard | GlobalBankAccount | FasterPaymentAccount | GlobalWallet
_REQUIRED: dict[type, tuple[str, tuple[str, ...]]] = {
    GlobalBankAccount: ("bank_account.global", ("description",)),
    FasterPaymentAccount: (
        "bank_account.faster_payment_system",
        ("phone", "bank_id", "description"),
    ),
    GlobalWallet: ("wallet.global", ("name", "description", "msisdn")),
}


def _check_destination(draft: SessionDraft, where: str, banks: set[str]) -> Payable:
    """The destination if a payout can be sent to it, else ``invalid_request`` naming why."""
    target = draft.payout_details
    if isinstance(target, PayoutCard):
        return target
    if isinstance(target, FpsVerification):
        msg = f"{where}.bank_account.system_type: use fps/customer_verification to verify a phone"
        raise InvalidRequest(msg)
    if not isinstance(target, GlobalBankAccount | FasterPaymentAccount | GlobalWallet):
        msg = f"{where}.type: {PAYABLE}"
        raise InvalidRequest(msg)
    at, names = _REQUIRED[type(target)]
    for name in names:
        if getattr(target, name) is None:
            msg = f"{where}.{at}.{name}: required for a payout"
            raise InvalidRequest(msg)
    if isinstance(target, GlobalBankAccount) and not (
        target.iban or target.account_number or target.bank_account_number
    ):
        msg = f"{where}.{at}: one of iban, account_number, bank_account_number is required"
        raise InvalidRequest(msg)
    if isinstance(target, FasterPaymentAccount):
        if target.bank_id not in banks:
            msg = f"{where}.{at}.bank_id: not a bank of fps/banks"
            raise InvalidRequest(msg)
        if draft.amount is not None and draft.amount.currency != "rub":
            msg = "amount_details.currency: a faster_payment_system payout is paid in rub only"
            raise InvalidRequest(msg)
    return target


def payout_draft(
    draft: SessionDraft, where: str, banks: set[str], *, created: bool = False
) -> PayoutDraft:
    """The payout's data, or ``invalid_request`` naming the first missing or wrong field."""
    why = " (not given at session/create either)" if created else ""
    if draft.amount is None:
        raise InvalidRequest(f"amount_details: required{why}")
    if draft.payout_details is None:
        raise InvalidRequest(f"{where}: required{why}")
    destination = _check_destination(draft, where, banks)
    check_participants(
        draft.participant_details,
        recipient_name=not isinstance(destination, FasterPaymentAccount),
    )
    return PayoutDraft(
        amount=draft.amount,
        destination=destination,
        customer=draft.customer,
        participant_details=draft.participant_details,
        metadata=draft.metadata,
        has_metadata=draft.has_metadata,
    )


def start_payout_in(
    deps: Deps, ch: Change, draft: PayoutDraft, now: datetime, *, verify: bool = False
) -> Payout:
    """Put a new payout (amount reserved) into the change's session."""
    policy = ch.project.settings
    confirm_by = None if policy.auto_confirm else now + deps.acquiring.confirm_timeout
    payout = new_payout(
        payout_id=new_id(IdPrefix.PAYOUT),
        amount=draft.amount,
        destination=draft.destination,
        now=now,
        confirm_by=confirm_by,
        recover_at=now + deps.acquiring.recovery_after,
        verify=verify,
        customer=draft.customer,
        participant_details=draft.participant_details,
        metadata=draft.metadata,
        has_metadata=draft.has_metadata,
    )
    return ch.put_payout(payout)


async def fps_bank_ids(deps: Deps) -> set[str]:
    """The processor's FPS bank ids (read before any transaction)."""
    return {bank.id for bank in await processor_of(deps).fps_banks()}


def require_startable(session: PaymentSession, operation: str) -> None:
    """A payout starts on a created session, or on one whose operations are all finished."""
    if session.live or session.status not in {SessionStatus.CREATED, SessionStatus.ACCEPTED}:
        detail = "holds a live operation" if session.live else f"is {session.status}"
        msg = f"{operation}: session {session.id} {detail}"
        raise InvalidSessionStatus(msg)


async def start_payout(deps: Deps, project: Project, cmd: StartPayout) -> Reply:
    """``session/init/payout`` or ``session/start/payout``: reserve the amount, then confirm."""
    now = deps.clock.now()
    banks = await fps_bank_ids(deps)
    where = payout_field(cmd.api_version)

    async def decide(ch: Change) -> None:
        resolved = await resolve_draft(deps, ch.uow, project.id, cmd.draft, where)
        if cmd.session_id is None:
            ch.session = replace(ch.session, draft=resolved)
            draft = payout_draft(resolved, where, banks)
        else:
            require_startable(ch.session, "session/start/payout")
            draft = payout_draft(merge(ch.session.draft, resolved), where, banks, created=True)
        start_payout_in(deps, ch, draft, ch.now)

    if cmd.session_id is not None:
        return await change(deps, project, decide, cmd.api_version, session_id=cmd.session_id)
    blank = blank_session(new_id(IdPrefix.SESSION), project.id, cmd.api_version, now)
    return await change(deps, project, decide, cmd.api_version, new_session=lambda: blank)
