"""The PaymentSession aggregate: its status machine and the data given at create."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime  # noqa: TC003 - dataclass field type
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from kassa.domain.errors import InvalidSessionStatus
from kassa.domain.payment import AcquiringPayment, Awaiting, PaymentStatus
from kassa.domain.refund import RefundStatus

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kassa.domain.json import JSON, JSONObject
    from kassa.domain.money import Money


class ApiVersion(StrEnum):
    """Which field names a session speaks on the wire (v1 or v2)."""

    V1 = "v1"
    V2 = "v2"


class SessionStatus(StrEnum):
    """Status of a payment session, as on the wire."""

    CREATED = "created"  # waiting to be started or cancelled
    IN_PROGRESS = "in_progress"  # an operation is being processed
    ACCEPTED = "accepted"  # completed successfully
    CANCELLED = "cancelled"  # cancelled, declined or timed out; terminal
    ERROR = "error"  # unexpected error; not final


NEXT: Final[Mapping[SessionStatus, frozenset[SessionStatus]]] = {
    SessionStatus.CREATED: frozenset({SessionStatus.IN_PROGRESS, SessionStatus.CANCELLED}),
    SessionStatus.IN_PROGRESS: frozenset(
        {SessionStatus.ACCEPTED, SessionStatus.CANCELLED, SessionStatus.ERROR},
    ),
    SessionStatus.ACCEPTED: frozenset({SessionStatus.IN_PROGRESS}),
    SessionStatus.ERROR: frozenset({SessionStatus.ACCEPTED, SessionStatus.CANCELLED}),
    SessionStatus.CANCELLED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class CardRef:
    """A card as kassa keeps it: vault hash and masked data, never the number or CVC."""

    number_hash: str
    brand: str
    last4: str
    bin: str
    expiration_month: str | None = None
    expiration_year: str | None = None
    cardholder_name: str | None = None


@dataclass(frozen=True, slots=True)
class Instrument:
    """A payment instrument or payout destination, discriminated by ``type``.

    ``card`` is set for card instruments (bank_card is vaulted before it gets here);
    ``data`` holds the other kinds' validated wire object (recurrent, bank_account, wallet…).
    """

    type: str
    card: CardRef | None = None
    data: JSONObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SessionDraft:
    """Operation data given at ``session/create``; ``start`` may add or override it."""

    amount: Money | None = None
    payment_details: Instrument | None = None
    payout_details: Instrument | None = None
    customer: JSONObject | None = None
    participant_details: JSONObject | None = None
    payment_options: JSONObject | None = None
    metadata: JSON = None
    has_metadata: bool = False
    extra: JSONObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PaymentSession:
    """A payment session of one project; ``version`` guards concurrent writers."""

    id: str
    project_id: str
    api_version: ApiVersion
    status: SessionStatus
    created_at: datetime
    updated_at: datetime
    draft: SessionDraft
    finished_at: datetime | None = None
    next_action: str | None = None
    deadline_at: datetime | None = None  # earliest pending timeout, for the sweeper
    version: int = 0
    payments: tuple[AcquiringPayment, ...] = ()

    def transition_to(self, new: SessionStatus, now: datetime) -> PaymentSession:
        """Return the session in ``new`` status; the only writer of ``status``."""
        if new not in NEXT[self.status]:
            msg = f"session {self.id} cannot move from {self.status} to {new}"
            raise InvalidSessionStatus(msg)
        finished = now if new in {SessionStatus.ACCEPTED, SessionStatus.CANCELLED} else None
        return replace(self, status=new, updated_at=now, finished_at=finished)

    @property
    def payment(self) -> AcquiringPayment | None:
        """The session's acquiring payment, if one was started."""
        return self.payments[-1] if self.payments else None

    def require_payment(self, operation: str) -> AcquiringPayment:
        """The acquiring payment, or ``InvalidSessionStatus`` naming the operation."""
        if self.payment is None:
            msg = f"{operation}: session {self.id} is {self.status} and has no payment"
            raise InvalidSessionStatus(msg)
        return self.payment

    def with_payment(self, payment: AcquiringPayment, now: datetime) -> PaymentSession:
        """The session holding ``payment`` (added or replaced), its status following it.

        in_progress/pending → ``in_progress``; succeeded → ``accepted`` (``in_progress``
        while a refund runs); failed → ``cancelled``. ``next_action`` and ``deadline_at``
        follow what the payment waits for.
        """
        others = tuple(p for p in self.payments if p.id != payment.id)
        payments = (*others, payment)
        target = _status_for(payment)
        moved = self if target is self.status else self.transition_to(target, now)
        waiting = payment.awaiting in {Awaiting.CONFIRM, Awaiting.CAPTURE}
        deadlines = [p.deadline_at for p in payments if p.deadline_at is not None]
        return replace(
            moved,
            payments=payments,
            updated_at=now,
            next_action=payment.awaiting.value if waiting and payment.awaiting else None,
            deadline_at=min(deadlines) if deadlines else None,
        )


def _status_for(payment: AcquiringPayment) -> SessionStatus:
    if payment.status is PaymentStatus.FAILED:
        return SessionStatus.CANCELLED
    if payment.status is PaymentStatus.SUCCEEDED:
        running = any(r.status is RefundStatus.IN_PROGRESS for r in payment.refunds)
        return SessionStatus.IN_PROGRESS if running else SessionStatus.ACCEPTED
    return SessionStatus.IN_PROGRESS
