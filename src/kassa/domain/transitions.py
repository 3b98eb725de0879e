"""What every state change of an operation implies: its webhook and its ledger postings.

One table, ``CONSEQUENCES``, maps a transition — (operation kind, status before, status after,
what the operation then waits for) — to the webhook it announces and the kinds of ledger
entry it causes. ``consequences`` derives the transition from the operation before and after
a change, looks it up (a transition missing from the table is a bug and raises), and computes
the postings from the money fields that moved (held, captured, refunds). The one place that
applies a change (``service/operations.py``) writes what this returns, so no use case places a
webhook or a posting by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from kassa.domain.errors import InternalError
from kassa.domain.ledger import Account, EntryKind, part_account
from kassa.domain.operation import Awaiting, CallKind, OperationKind
from kassa.domain.payment import AcquiringPayment, PaymentStatus
from kassa.domain.payout import Payout, PayoutStatus
from kassa.domain.refund import Refund, RefundStatus
from kassa.domain.split import allocate, reversal

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kassa.domain.operation import Wait


class WebhookType(StrEnum):
    """The five webhook types of the protocol; clients reject any other."""

    READY_TO_CONFIRM = "ready_to_confirm"
    READY_TO_CAPTURE = "ready_to_capture"
    ACTION_REQUIRED = "action_required"
    PAYMENT_FINISHED = "payment_finished"
    PAYMENT_REFUNDED = "payment_refunded"


Status = PaymentStatus | RefundStatus | PayoutStatus


@dataclass(frozen=True, slots=True)
class Transition:
    """An operation moving from ``before`` (None: created) to ``after``, waiting on ``wait``."""

    kind: OperationKind
    before: Status | None
    after: Status
    wait: Wait | None


@dataclass(frozen=True, slots=True)
class Consequence:
    """The webhook a transition announces (if any) and the ledger entries it causes."""

    webhook: WebhookType | None = None
    entries: tuple[EntryKind, ...] = ()


_P, _R, _PO = OperationKind.PAYMENT, OperationKind.REFUND, OperationKind.PAYOUT
_PO_IP, _PO_PENDING = PayoutStatus.IN_PROGRESS, PayoutStatus.PENDING
_PO_OK, _PO_FAILED = PayoutStatus.SUCCEEDED, PayoutStatus.FAILED
_IP, _PENDING = PaymentStatus.IN_PROGRESS, PaymentStatus.PENDING
_OK, _FAILED = PaymentStatus.SUCCEEDED, PaymentStatus.FAILED
_FINISHED, _REFUNDED = WebhookType.PAYMENT_FINISHED, WebhookType.PAYMENT_REFUNDED
_AUTH, _CAPTURE, _RELEASE = EntryKind.AUTHORISE, EntryKind.CAPTURE, EntryKind.RELEASE

CONSEQUENCES: Final[Mapping[Transition, Consequence]] = {
    # payments
    Transition(_P, None, _IP, CallKind.AUTHORIZE): Consequence(),  # started
    Transition(_P, _IP, _PENDING, Awaiting.CUSTOMER): Consequence(WebhookType.ACTION_REQUIRED),
    Transition(_P, _IP, _PENDING, Awaiting.CONFIRM): Consequence(
        WebhookType.READY_TO_CONFIRM, (_AUTH,)
    ),
    Transition(_P, _IP, _PENDING, Awaiting.CAPTURE): Consequence(
        WebhookType.READY_TO_CAPTURE, (_AUTH,)
    ),
    Transition(_P, _IP, _IP, CallKind.CAPTURE): Consequence(entries=(_AUTH,)),  # auto-confirm
    Transition(_P, _IP, _OK, None): Consequence(_FINISHED, (_CAPTURE, _RELEASE)),  # captured
    Transition(_P, _IP, _FAILED, None): Consequence(_FINISHED, (_RELEASE,)),  # declined/released
    Transition(_P, _PENDING, _IP, CallKind.AUTHORIZE): Consequence(),  # 3DS passed
    Transition(_P, _PENDING, _IP, CallKind.CAPTURE): Consequence(),  # confirm, capture
    Transition(_P, _PENDING, _IP, CallKind.RELEASE): Consequence(),  # cancel, timeout
    Transition(_P, _PENDING, _FAILED, None): Consequence(_FINISHED, (_RELEASE,)),  # no hold
    # refunds and chargebacks
    Transition(_R, None, RefundStatus.IN_PROGRESS, CallKind.REFUND): Consequence(),
    Transition(_R, RefundStatus.IN_PROGRESS, RefundStatus.ACCEPTED, None): Consequence(
        _REFUNDED, (EntryKind.REFUND,)
    ),
    Transition(_R, RefundStatus.IN_PROGRESS, RefundStatus.DECLINED, None): Consequence(_REFUNDED),
    Transition(_R, None, RefundStatus.ACCEPTED, None): Consequence(
        _REFUNDED, (EntryKind.CHARGEBACK,)
    ),
    # payouts (FPS verifications move no money: their entries post nothing)
    Transition(_PO, None, _PO_PENDING, Awaiting.CONFIRM): Consequence(
        WebhookType.READY_TO_CONFIRM, (EntryKind.RESERVE,)
    ),
    Transition(_PO, None, _PO_IP, CallKind.PAYOUT): Consequence(entries=(EntryKind.RESERVE,)),
    Transition(_PO, None, _PO_IP, CallKind.VERIFY): Consequence(),
    Transition(_PO, _PO_PENDING, _PO_IP, CallKind.PAYOUT): Consequence(),  # confirm
    Transition(_PO, _PO_PENDING, _PO_FAILED, None): Consequence(_FINISHED, (EntryKind.RETURN,)),
    Transition(_PO, _PO_IP, _PO_OK, None): Consequence(_FINISHED, (EntryKind.SETTLE,)),
    Transition(_PO, _PO_IP, _PO_FAILED, None): Consequence(_FINISHED, (EntryKind.RETURN,)),
}

Move = tuple[str, str, int]  # (from account, to account, minor units)


@dataclass(frozen=True, slots=True)
class Effect:
    """One ledger entry an operation's change causes: its kind, operation and moves."""

    kind: EntryKind
    operation_id: str
    moves: tuple[Move, ...]


def lookup(transition: Transition) -> Consequence:
    """The consequence of ``transition``; a transition outside the table is a bug."""
    found = CONSEQUENCES.get(transition)
    if found is None:
        msg = f"no consequence defined for {transition}"
        raise InternalError(msg)
    return found


def payment_transition(
    before: AcquiringPayment | None, after: AcquiringPayment
) -> Transition | None:
    """The transition from ``before`` to ``after``, or None if status and wait did not move."""
    if before is not None and (before.status, before.wait) == (after.status, after.wait):
        return None
    return Transition(_P, None if before is None else before.status, after.status, after.wait)


def refund_transition(before: Refund | None, after: Refund) -> Transition | None:
    """The transition of a refund, or None if it did not move."""
    if before is not None and before.status is after.status:
        return None
    wait = None if after.call is None else after.call.kind
    return Transition(_R, None if before is None else before.status, after.status, wait)


def payment_effects(before: AcquiringPayment | None, after: AcquiringPayment) -> list[Effect]:
    """The ledger entries of a payment's own money moving (not its refunds).

    Authorised = held grew; captured = captured grew (split between the parts); released =
    what left the hold without being captured. Each must be allowed by the transition.
    """
    held_before = 0 if before is None else before.held
    captured_before = 0 if before is None else before.captured
    captured = after.captured - captured_before
    authorised = max(0, after.held - held_before)
    released = held_before + authorised - after.held - captured
    pairs: list[tuple[EntryKind, tuple[Move, ...]]] = []
    if authorised:
        pairs.append((_AUTH, ((Account.PAYER_FUNDS.value, Account.HOLDS.value, authorised),)))
    if captured:
        parts = allocate(captured, after.splits)
        pairs.append(
            (_CAPTURE, tuple((Account.HOLDS.value, part_account(k), v) for k, v in parts.items()))
        )
    if released:
        pairs.append((_RELEASE, ((Account.HOLDS.value, Account.PAYER_FUNDS.value, released),)))
    transition = payment_transition(before, after)
    allowed = () if transition is None else lookup(transition).entries
    for kind, _moves in pairs:
        if kind not in allowed:
            msg = f"payment {after.id}: {kind} money moved on {transition}, which has no {kind}"
            raise InternalError(msg)
    return [Effect(kind, after.id, moves) for kind, moves in pairs]


def refund_effects(payment: AcquiringPayment, before: Refund | None, after: Refund) -> list[Effect]:
    """The reversal of a refund or chargeback that was just accepted, pro rata over the parts.

    The parts give back the difference between the spread of all accepted refunds with and
    without this one, so every part stays within its share and a full refund returns each.
    """
    transition = refund_transition(before, after)
    if transition is None or after.status is not RefundStatus.ACCEPTED:
        return []
    [kind] = lookup(transition).entries
    accepted = sum(
        r.amount.minor
        for r in payment.refunds
        if r.status is RefundStatus.ACCEPTED and r.id != after.id
    )
    parts = allocate(payment.captured, payment.splits)
    back = reversal(parts, accepted, accepted + after.amount.minor)
    moves = tuple((part_account(k), Account.PAYER_FUNDS.value, v) for k, v in back.items())
    return [Effect(kind, after.id, moves)]


def payout_transition(before: Payout | None, after: Payout) -> Transition | None:
    """The transition of a payout, or None if status and wait did not move."""
    if before is not None and (before.status, before.wait) == (after.status, after.wait):
        return None
    return Transition(_PO, None if before is None else before.status, after.status, after.wait)


def payout_effects(before: Payout | None, after: Payout) -> list[Effect]:
    """Reserved = the reservation grew; settled = paid grew; returned = what left it otherwise."""
    reserved_before = 0 if before is None else before.reserved
    paid = after.paid - (0 if before is None else before.paid)
    reserved = max(0, after.reserved - reserved_before)
    returned = reserved_before + reserved - after.reserved - paid
    wallet, flight = Account.PAYOUT_WALLET.value, Account.IN_FLIGHT_PAYOUTS.value
    pairs: list[tuple[EntryKind, Move]] = []
    if reserved:
        pairs.append((EntryKind.RESERVE, (wallet, flight, reserved)))
    if paid:
        pairs.append((EntryKind.SETTLE, (flight, Account.EXTERNAL_PAYEES.value, paid)))
    if returned:
        pairs.append((EntryKind.RETURN, (flight, wallet, returned)))
    transition = payout_transition(before, after)
    allowed = () if transition is None else lookup(transition).entries
    for kind, _move in pairs:
        if kind not in allowed:
            msg = f"payout {after.id}: {kind} money moved on {transition}, which has no {kind}"
            raise InternalError(msg)
    return [Effect(kind, after.id, (move,)) for kind, move in pairs]
