"""The PaymentSession aggregate: its status machine and the data given at create."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime  # noqa: TC003 - dataclass field type
from enum import StrEnum
from typing import TYPE_CHECKING, Final, TypeVar

from kassa.domain.errors import InvalidSessionStatus
from kassa.domain.operation import Awaiting
from kassa.domain.payment import AcquiringPayment, PaymentStatus
from kassa.domain.payout import Payout, PayoutStatus
from kassa.domain.refund import RefundStatus

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kassa.domain.instrument import PaymentInstrument, PayoutDestination
    from kassa.domain.json import JSON, JSONObject
    from kassa.domain.money import Money


Op = TypeVar("Op", AcquiringPayment, Payout)


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
class ReplyTo:
    """The idempotency key of the request that started a change still waiting on a processor.

    Whoever records the last answer (that request, or the recovery sweeper after a crash)
    stores the final reply under this key, rendered in ``api_version``'s names.
    """

    key: str
    owner: str
    api_version: ApiVersion


@dataclass(frozen=True, slots=True)
class SessionDraft:
    """Operation data given at ``session/create``; ``start`` may add or override it."""

    amount: Money | None = None
    payment_details: PaymentInstrument | None = None
    payout_details: PayoutDestination | None = None
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
    deadline_at: datetime | None = None  # earliest timeout or call recovery, for the sweeper
    version: int = 0
    payments: tuple[AcquiringPayment, ...] = ()
    payouts: tuple[Payout, ...] = ()
    replies: tuple[ReplyTo, ...] = ()  # requests whose replies wait on a processor call

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

    def payment_by_id(self, payment_id: str) -> AcquiringPayment | None:
        """The session's acquiring payment ``payment_id``, or None."""
        return next((p for p in self.payments if p.id == payment_id), None)

    def payout_by_id(self, payout_id: str) -> Payout | None:
        """The session's payout ``payout_id``, or None."""
        return next((p for p in self.payouts if p.id == payout_id), None)

    @property
    def calls_pending(self) -> bool:
        """True while an operation of the session waits on a processor call."""
        return any(
            p.call is not None or any(r.call is not None for r in p.refunds) for p in self.payments
        ) or any(p.call is not None for p in self.payouts)

    @property
    def live(self) -> bool:
        """True while any operation (payment, refund, payout) is not finished."""
        return any(
            p.status in {PaymentStatus.IN_PROGRESS, PaymentStatus.PENDING}
            or any(r.status is RefundStatus.IN_PROGRESS for r in p.refunds)
            for p in self.payments
        ) or any(p.live for p in self.payouts)

    def with_payment(self, payment: AcquiringPayment, now: datetime) -> PaymentSession:
        """The session holding ``payment`` (added or replaced), its status derived again."""
        return self._holding(_put(self.payments, payment), self.payouts, now)

    def with_payout(self, payout: Payout, now: datetime) -> PaymentSession:
        """The session holding ``payout`` (added or replaced), its status derived again."""
        return self._holding(self.payments, _put(self.payouts, payout), now)

    def _holding(
        self,
        payments: tuple[AcquiringPayment, ...],
        payouts: tuple[Payout, ...],
        now: datetime,
    ) -> PaymentSession:
        """Status, ``next_action`` and ``deadline_at`` derived from all the operations.

        Any operation live (a payment or payout in progress or pending, a refund running) →
        ``in_progress``; else any succeeded → ``accepted``; else (all failed) → ``cancelled``.
        ``next_action`` is ``confirm`` while anything waits for confirm, else ``capture``
        while a hold waits; ``deadline_at`` the earliest wait deadline or call recovery.
        """
        held = replace(self, payments=payments, payouts=payouts)
        target = _derived(held)
        moved = held if target is self.status else held.transition_to(target, now)
        waits = [p.awaiting for p in payments if p.status is PaymentStatus.PENDING]
        waits += [p.awaiting for p in payouts if p.awaiting is not None]
        moments = [p.deadline_at for p in payments if p.deadline_at is not None]
        moments += [p.deadline_at for p in payouts if p.deadline_at is not None]
        for p in payments:
            moments += [c.recover_at for c in (p.call, *(r.call for r in p.refunds)) if c]
        moments += [p.call.recover_at for p in payouts if p.call is not None]
        return replace(
            moved,
            updated_at=now,
            next_action=next(
                (a.value for a in (Awaiting.CONFIRM, Awaiting.CAPTURE) if a in waits), None
            ),
            deadline_at=min(moments) if moments else None,
        )


def _put(operations: tuple[Op, ...], operation: Op) -> tuple[Op, ...]:
    if any(o.id == operation.id for o in operations):
        return tuple(operation if o.id == operation.id else o for o in operations)
    return operations + (operation,)  # noqa: RUF005 - mypy keeps the TypeVar this way


def _derived(session: PaymentSession) -> SessionStatus:
    if session.live:
        return SessionStatus.IN_PROGRESS
    if not session.payments and not session.payouts:
        return session.status
    succeeded = any(p.status is PaymentStatus.SUCCEEDED for p in session.payments) or any(
        p.status is PayoutStatus.SUCCEEDED for p in session.payouts
    )
    return SessionStatus.ACCEPTED if succeeded else SessionStatus.CANCELLED
