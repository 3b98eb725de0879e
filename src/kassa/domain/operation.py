"""What an operation waits for, and the processor call it has committed to make.

An operation that must ask the processor first commits its *intent*: the operation in
``in_progress`` with a ``PendingCall`` naming the call and its operation-scoped key
(``pm_…:capture``). Only after that commit is the processor called with that key; its answer
is recorded by a second transaction that clears the call. The processor answers a repeated
key with its first answer and never acts twice, so a sweeper can finish a call that a crash
interrupted by asking again (``recover_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime  # noqa: TC003 - dataclass field type
from enum import StrEnum


class OperationKind(StrEnum):
    """The operations a session holds."""

    PAYMENT = "payment"
    REFUND = "refund"
    PAYOUT = "payout"


class Awaiting(StrEnum):
    """What a pending operation waits for; confirm/capture are the session's ``next_action``."""

    CONFIRM = "confirm"  # session/confirm or session/cancel (ready_to_confirm)
    CAPTURE = "capture"  # session/capture or session/cancel (ready_to_capture)
    CUSTOMER = "customer_action"  # the customer on the 3DS page (action_required)


class CallKind(StrEnum):
    """A call to the processor an ``in_progress`` operation waits on."""

    AUTHORIZE = "authorize"
    CAPTURE = "capture"  # captures ``amount``; the rest of the hold is released with it
    RELEASE = "release"  # releases the whole hold
    REFUND = "refund"
    PAYOUT = "payout"
    VERIFY = "verify"  # FPS customer verification: is the phone registered? (no money)


@dataclass(frozen=True, slots=True)
class PendingCall:
    """A processor call committed as intent and not yet recorded.

    ``key`` is unique per call (the processor's idempotency key); ``amount`` the minor units
    it moves; ``recover_at`` when a sweeper may ask again if nobody recorded the answer.
    """

    kind: CallKind
    key: str
    amount: int
    recover_at: datetime


Wait = Awaiting | CallKind  # what a live operation waits for: someone outside, or the processor


def call_key(operation_id: str, kind: CallKind, attempt: int = 1) -> str:
    """The processor key of a call: ``pm_…:capture`` (``pm_…:authorize:2`` after 3DS)."""
    base = f"{operation_id}:{kind.value}"
    return base if attempt == 1 else f"{base}:{attempt}"
