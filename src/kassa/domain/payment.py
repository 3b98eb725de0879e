"""The acquiring payment: authorise, confirm, 3DS, two-step capture, cancel, refunds.

Status (as on the wire) moves only through ``transition_to`` and the ``NEXT`` table::

    in_progress ──authorised / 3DS needed──► pending ──confirm / capture / cancel / 3DS──►
                                                               in_progress (a processor call)
    in_progress ──captured──► succeeded (terminal)
    in_progress | pending ──declined / released / 3DS failed / timed out──► failed (terminal)

A live payment always says what it waits for (``wait``): while ``pending`` the merchant's
confirm or capture or the customer's 3DS answer (``awaiting``); while ``in_progress`` the
processor call it committed to (``call``: authorize, capture or release). Operations check the
wait first, so "confirm twice" or "capture a confirmed payment" are ``InvalidSessionStatus``
and change nothing. What each move implies (webhook, postings) is in ``domain/transitions.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime  # noqa: TC003 - dataclass field type
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from kassa.domain.errors import InvalidSessionStatus
from kassa.domain.instrument import RecurrentCharge, card_of
from kassa.domain.operation import Awaiting, CallKind, PendingCall, call_key
from kassa.domain.refund import Refund, RefundStatus, TransactionInfo

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kassa.domain.instrument import CardRef, PaymentInstrument
    from kassa.domain.json import JSON, JSONObject
    from kassa.domain.money import Money
    from kassa.domain.operation import Wait
    from kassa.domain.split import SplitRule


class PaymentStatus(StrEnum):
    """Status of an acquiring payment, as on the wire."""

    IN_PROGRESS = "in_progress"  # being processed
    PENDING = "pending"  # waiting for confirm / capture / the customer
    SUCCEEDED = "succeeded"  # captured; terminal (refunds hang below it)
    FAILED = "failed"  # declined, cancelled or timed out; terminal, ``error`` says why


NEXT: Final[Mapping[PaymentStatus, frozenset[PaymentStatus]]] = {
    PaymentStatus.IN_PROGRESS: frozenset(  # in_progress → in_progress: a next processor call
        {
            PaymentStatus.IN_PROGRESS,
            PaymentStatus.PENDING,
            PaymentStatus.SUCCEEDED,
            PaymentStatus.FAILED,
        },
    ),
    PaymentStatus.PENDING: frozenset({PaymentStatus.IN_PROGRESS, PaymentStatus.FAILED}),
    PaymentStatus.SUCCEEDED: frozenset(),
    PaymentStatus.FAILED: frozenset(),
}


class FailureCode(StrEnum):
    """Error codes a payment can end with (the sandbox adds its decline codes)."""

    CANCELLED = "cancelled"
    CONFIRM_TIMEOUT = "confirm_timeout"
    THREE_DS_ERROR = "3DS_error"
    CAPTURE_TIMEOUT = "capture_timeout"


@dataclass(frozen=True, slots=True)
class PaymentError:
    """Why a payment failed: ``{code, description}`` on the wire."""

    code: str
    description: str


@dataclass(frozen=True, slots=True)
class RecurrentInfo:
    """The recurrent token a successful ``recurrent=true`` payment created."""

    token: str
    created_at: datetime
    disabled_at: datetime | None = None  # recurrent/disable (then ``is_active: false``)


@dataclass(frozen=True, slots=True)
class AcquiringPayment:
    """One acquiring payment of a session. ``status`` changes only via ``transition_to``."""

    id: str
    status: PaymentStatus
    created_at: datetime
    updated_at: datetime
    amount: Money
    instrument: PaymentInstrument
    customer: JSONObject | None = None
    participant_details: JSONObject | None = None
    payment_options: JSONObject | None = None
    metadata: JSON = None
    has_metadata: bool = False
    finished_at: datetime | None = None
    awaiting: Awaiting | None = None
    deadline_at: datetime | None = None  # when the wait in ``awaiting`` times out
    three_ds_token: str | None = None  # secret of the 3DS page link; never on the wire
    customer_interaction: JSONObject | None = None
    transaction_info: TransactionInfo | None = None
    error: PaymentError | None = None
    held: int = 0  # minor units authorised and not yet captured or released
    captured: int = 0  # minor units captured (the most that may be refunded)
    refunds: tuple[Refund, ...] = ()
    recurrent: RecurrentInfo | None = None
    splits: tuple[SplitRule, ...] = ()
    three_ds_passed: bool = False
    call: PendingCall | None = None  # the processor call an in_progress payment waits on
    authorizations: int = 0  # authorize calls made so far (a new key after 3DS)
    closing: PaymentError | None = None  # why it fails once the pending release is answered

    def transition_to(
        self,
        new: PaymentStatus,
        now: datetime,
        *,
        awaiting: Awaiting | None = None,
        call: PendingCall | None = None,
    ) -> AcquiringPayment:
        """The payment in ``new`` status, waiting on ``awaiting`` (pending) or ``call``.

        The only writer of ``status``; a live payment must say what it waits for.
        """
        if new not in NEXT[self.status]:
            msg = f"payment {self.id} cannot move from {self.status} to {new}"
            raise InvalidSessionStatus(msg)
        if (new is PaymentStatus.PENDING) != (awaiting is not None):
            msg = f"payment {self.id}: pending, and only pending, waits on a merchant or customer"
            raise InvalidSessionStatus(msg)
        if (new is PaymentStatus.IN_PROGRESS) != (call is not None):
            msg = f"payment {self.id}: in_progress, and only in_progress, waits on a processor call"
            raise InvalidSessionStatus(msg)
        finished = now if new in {PaymentStatus.SUCCEEDED, PaymentStatus.FAILED} else None
        return replace(
            self,
            status=new,
            updated_at=now,
            finished_at=finished,
            awaiting=awaiting,
            call=call,
            deadline_at=None,
            customer_interaction=None,
        )

    @property
    def wait(self) -> Wait | None:
        """What a live payment waits for (``awaiting`` or its processor call), else None."""
        if self.awaiting is not None:
            return self.awaiting
        return None if self.call is None else self.call.kind

    @property
    def card(self) -> CardRef | None:
        """The card the payment is charged to (a recurrent charge: its token's card)."""
        return card_of(self.instrument)

    @property
    def initiator(self) -> str | None:
        """``merchant`` or ``client`` for a recurrent charge, else None."""
        return self.instrument.initiator if isinstance(self.instrument, RecurrentCharge) else None

    def calling(
        self, kind: CallKind, amount: int, now: datetime, recover_at: datetime
    ) -> AcquiringPayment:
        """``in_progress`` waiting on a processor call of ``kind`` for ``amount`` minor units."""
        attempts = self.authorizations + (kind is CallKind.AUTHORIZE)
        key = call_key(self.id, kind, attempts if kind is CallKind.AUTHORIZE else 1)
        moved = self.transition_to(
            PaymentStatus.IN_PROGRESS, now, call=PendingCall(kind, key, amount, recover_at)
        )
        return replace(moved, authorizations=attempts)

    def require(self, awaiting: Awaiting, operation: str) -> None:
        """Raise ``InvalidSessionStatus`` unless the payment is pending on ``awaiting``."""
        if self.status is not PaymentStatus.PENDING or self.awaiting is not awaiting:
            state = self.status.value
            if self.awaiting is not None:
                state = f"{state} waiting for {self.awaiting.value}"
            msg = (
                f"{operation} needs a payment waiting for {awaiting.value}; "
                f"payment {self.id} is {state}"
            )
            raise InvalidSessionStatus(msg)

    def wait_for(
        self,
        awaiting: Awaiting,
        deadline: datetime,
        now: datetime,
        interaction: JSONObject | None = None,
    ) -> AcquiringPayment:
        """Pending on ``awaiting`` until ``deadline`` (from in_progress)."""
        pending = self.transition_to(PaymentStatus.PENDING, now, awaiting=awaiting)
        return replace(pending, deadline_at=deadline, customer_interaction=interaction)

    def releasing(self, why: PaymentError, now: datetime, recover_at: datetime) -> AcquiringPayment:
        """Release the whole hold at the processor, then fail with ``why`` (cancel, timeout)."""
        return replace(self.calling(CallKind.RELEASE, self.held, now, recover_at), closing=why)

    def authorised(self, info: TransactionInfo | None) -> AcquiringPayment:
        """The whole amount held by the processor (the caller then waits or captures)."""
        return replace(self, held=self.amount.minor, transaction_info=info)

    def fail(self, error: PaymentError, now: datetime) -> AcquiringPayment:
        """Failed with ``error``; whatever was held is released (the postings say so)."""
        failed = self.transition_to(PaymentStatus.FAILED, now)
        return replace(failed, error=error, held=0)

    def succeed(self, captured: int, now: datetime) -> AcquiringPayment:
        """Captured ``captured`` minor units; the rest of the hold is released."""
        done = self.transition_to(PaymentStatus.SUCCEEDED, now)
        return replace(done, captured=captured, held=0)

    @property
    def refunded(self) -> int:
        """Minor units refunded or being refunded (chargebacks included)."""
        return sum(
            r.amount.minor
            for r in self.refunds
            if r.status in {RefundStatus.IN_PROGRESS, RefundStatus.ACCEPTED}
        )

    @property
    def refundable(self) -> int:
        """What may still be refunded: captured - refunded."""
        return self.captured - self.refunded

    @property
    def return_url(self) -> str | None:
        """Where to send the customer after the 3DS page."""
        options = self.payment_options or {}
        url = options.get("return_url")
        return url if isinstance(url, str) else None

    @property
    def wants_recurrent(self) -> bool:
        """True if a recurrent token should be created on success."""
        return (self.payment_options or {}).get("recurrent") is True

    def with_refund(self, refund: Refund, now: datetime) -> AcquiringPayment:
        """Add or replace ``refund`` (by id)."""
        others = tuple(r for r in self.refunds if r.id != refund.id)
        ordered = tuple(sorted((*others, refund), key=lambda r: (r.created_at, r.id)))
        return replace(self, refunds=ordered, updated_at=now)


@dataclass(frozen=True, slots=True)
class PaymentDraft:
    """Everything needed to start a payment, after create and start data were merged."""

    amount: Money
    instrument: PaymentInstrument
    customer: JSONObject
    participant_details: JSONObject | None = None
    payment_options: JSONObject | None = None
    metadata: JSON = None
    has_metadata: bool = False
    splits: tuple[SplitRule, ...] = field(default_factory=tuple)
