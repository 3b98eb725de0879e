"""Refunds of a captured payment: refundable = captured - refunded; chargebacks are refunds too.

::

    in_progress ──done──► accepted (terminal)
    in_progress ──refused──► declined (terminal)

An ``in_progress`` refund waits on its processor call (``call``); a chargeback is created
``accepted`` (the scheme took the money back, nobody is asked).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime  # noqa: TC003 - dataclass field type
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from kassa.domain.errors import InvalidSessionStatus, RefundAmountExceeded
from kassa.domain.operation import PendingCall  # noqa: TC001 - dataclass field type

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kassa.domain.json import JSON
    from kassa.domain.money import Money


@dataclass(frozen=True, slots=True)
class TransactionInfo:
    """Processor references of a successful operation (payment or refund)."""

    rrn: str
    auth_code: str


class RefundStatus(StrEnum):
    """Status of a refund, as on the wire."""

    IN_PROGRESS = "in_progress"
    ACCEPTED = "accepted"
    DECLINED = "declined"


NEXT: Final[Mapping[RefundStatus, frozenset[RefundStatus]]] = {
    RefundStatus.IN_PROGRESS: frozenset({RefundStatus.ACCEPTED, RefundStatus.DECLINED}),
    RefundStatus.ACCEPTED: frozenset(),
    RefundStatus.DECLINED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Refund:
    """A refund (or chargeback) of part or all of a payment's captured amount."""

    id: str
    status: RefundStatus
    amount: Money
    created_at: datetime
    is_chargeback: bool = False
    finished_at: datetime | None = None
    metadata: JSON = None
    has_metadata: bool = False
    transaction_info: TransactionInfo | None = None  # the processor's references, once accepted
    call: PendingCall | None = None  # the refund call an in_progress refund waits on

    def transition_to(self, new: RefundStatus, now: datetime) -> Refund:
        """The refund in ``new`` (terminal) status; the only writer of ``status``."""
        if new not in NEXT[self.status]:
            msg = f"refund {self.id} cannot move from {self.status} to {new}"
            raise InvalidSessionStatus(msg)
        return replace(self, status=new, finished_at=now, call=None)


def check_refund_amount(
    amount: int, refundable: int, *, partial_allowed: bool, captured: int
) -> None:
    """Raise ``RefundAmountExceeded`` if ``amount`` passes what is left to refund.

    With partial refunds disabled for the project only a refund of the whole captured amount
    is accepted.
    """
    if amount > refundable:
        msg = f"amount_details.amount: {amount} exceeds the refundable {refundable}"
        raise RefundAmountExceeded(msg)
    if not partial_allowed and amount != captured:
        msg = "amount_details.amount: partial refunds are disabled for this project"
        raise RefundAmountExceeded(msg)
