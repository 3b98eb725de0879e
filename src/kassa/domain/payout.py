"""The payout: money from the project's prefunded wallet to a card, account or e-wallet.

Status (as on the wire) moves only through ``transition_to`` and the ``NEXT`` table::

    (start) ──► pending (ready_to_confirm) ──confirm──► in_progress (payout call) ──► succeeded
       │           └──cancel / confirm timeout──► failed                        └──► failed
       └─auto-confirm──► in_progress (payout call)
    (fps/customer_verification) ──► in_progress (verify call) ──► succeeded | failed

A payout reserves its whole amount when it starts (``reserved``: wallet → in flight); success
pays it out (``paid``: in flight → external payees), failure returns it to the wallet. The
postings follow from those two fields (``domain/transitions.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime  # noqa: TC003 - dataclass field type
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from kassa.domain.errors import InvalidSessionStatus
from kassa.domain.instrument import card_of
from kassa.domain.operation import Awaiting, CallKind, PendingCall, call_key

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kassa.domain.instrument import CardRef, PayoutDestination
    from kassa.domain.json import JSON, JSONObject
    from kassa.domain.money import Money
    from kassa.domain.operation import Wait
    from kassa.domain.payment import PaymentError
    from kassa.domain.refund import TransactionInfo


class PayoutStatus(StrEnum):
    """Status of a payout, as on the wire."""

    IN_PROGRESS = "in_progress"  # sent to the rail, no answer yet
    PENDING = "pending"  # waiting for session/confirm or cancel
    SUCCEEDED = "succeeded"  # paid out; terminal
    FAILED = "failed"  # declined, cancelled or timed out; terminal, ``error`` says why


NEXT: Final[Mapping[PayoutStatus, frozenset[PayoutStatus]]] = {
    PayoutStatus.IN_PROGRESS: frozenset({PayoutStatus.SUCCEEDED, PayoutStatus.FAILED}),
    PayoutStatus.PENDING: frozenset({PayoutStatus.IN_PROGRESS, PayoutStatus.FAILED}),
    PayoutStatus.SUCCEEDED: frozenset(),
    PayoutStatus.FAILED: frozenset(),
}

TERMINAL = frozenset({PayoutStatus.SUCCEEDED, PayoutStatus.FAILED})


@dataclass(frozen=True, slots=True)
class Payout:
    """One payout of a session. ``status`` changes only via ``transition_to``."""

    id: str
    status: PayoutStatus
    created_at: datetime
    updated_at: datetime
    amount: Money
    destination: PayoutDestination
    customer: JSONObject | None = None
    participant_details: JSONObject | None = None
    metadata: JSON = None
    has_metadata: bool = False
    finished_at: datetime | None = None
    awaiting: Awaiting | None = None  # confirm, while pending
    deadline_at: datetime | None = None  # when the confirm wait times out
    call: PendingCall | None = None  # the rail call an in_progress payout waits on
    error: PaymentError | None = None
    transaction_info: TransactionInfo | None = None
    reserved: int = 0  # minor units moved from the wallet to in-flight, not yet settled
    paid: int = 0  # minor units paid out to the payee

    @property
    def wait(self) -> Wait | None:
        """What a live payout waits for (confirm, or its rail call), else None."""
        if self.awaiting is not None:
            return self.awaiting
        return None if self.call is None else self.call.kind

    @property
    def card(self) -> CardRef | None:
        """The card paid out to, if the destination is a card."""
        return card_of(self.destination)

    @property
    def live(self) -> bool:
        """True until the payout is succeeded or failed."""
        return self.status not in TERMINAL

    def transition_to(
        self,
        new: PayoutStatus,
        now: datetime,
        *,
        awaiting: Awaiting | None = None,
        call: PendingCall | None = None,
    ) -> Payout:
        """The payout in ``new`` status, waiting on ``awaiting`` or ``call``; the only writer."""
        if new not in NEXT[self.status]:
            msg = f"payout {self.id} cannot move from {self.status} to {new}"
            raise InvalidSessionStatus(msg)
        finished = now if new in TERMINAL else None
        return replace(
            self,
            status=new,
            updated_at=now,
            finished_at=finished,
            awaiting=awaiting,
            call=call,
            deadline_at=None,
        )

    def require_confirm(self, operation: str) -> None:
        """Raise ``InvalidSessionStatus`` unless the payout waits for the merchant's confirm."""
        if self.status is not PayoutStatus.PENDING or self.awaiting is not Awaiting.CONFIRM:
            msg = (
                f"{operation} needs a payout waiting for confirm; payout {self.id} is {self.status}"
            )
            raise InvalidSessionStatus(msg)

    def paying(self, now: datetime, recover_at: datetime) -> Payout:
        """Confirmed: ``in_progress`` waiting on the rail's payout call."""
        call = PendingCall(
            CallKind.PAYOUT, call_key(self.id, CallKind.PAYOUT), self.amount.minor, recover_at
        )
        return self.transition_to(PayoutStatus.IN_PROGRESS, now, call=call)

    def succeed(self, info: TransactionInfo | None, now: datetime) -> Payout:
        """Paid out: the reservation settles to the payee."""
        done = self.transition_to(PayoutStatus.SUCCEEDED, now)
        return replace(done, reserved=0, paid=self.reserved, transaction_info=info)

    def fail(self, error: PaymentError, now: datetime) -> Payout:
        """Failed with ``error``: the reservation goes back to the wallet."""
        failed = self.transition_to(PayoutStatus.FAILED, now)
        return replace(failed, reserved=0, error=error)


def new_payout(
    *,
    payout_id: str,
    amount: Money,
    destination: PayoutDestination,
    now: datetime,
    confirm_by: datetime | None,
    recover_at: datetime,
    verify: bool = False,
    customer: JSONObject | None = None,
    participant_details: JSONObject | None = None,
    metadata: JSON = None,
    has_metadata: bool = False,
) -> Payout:
    """A started payout with its amount reserved.

    ``confirm_by`` set: ``pending`` until then (ready_to_confirm); None: auto-confirmed,
    ``in_progress`` on its payout call. ``verify``: an FPS customer verification (no money).
    """
    base = Payout(
        id=payout_id,
        status=PayoutStatus.IN_PROGRESS,
        created_at=now,
        updated_at=now,
        amount=amount,
        destination=destination,
        customer=customer,
        participant_details=participant_details,
        metadata=metadata,
        has_metadata=has_metadata,
        reserved=amount.minor,
    )
    if confirm_by is not None and not verify:
        return replace(
            base,
            status=PayoutStatus.PENDING,
            awaiting=Awaiting.CONFIRM,
            deadline_at=confirm_by,
        )
    kind = CallKind.VERIFY if verify else CallKind.PAYOUT
    return replace(
        base, call=PendingCall(kind, call_key(payout_id, kind), amount.minor, recover_at)
    )
