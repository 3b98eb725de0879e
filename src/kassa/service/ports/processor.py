"""The processor port: the acquirer (and later the payout rails) kassa talks to after commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kassa.domain.money import Money
    from kassa.domain.refund import TransactionInfo


class Outcome(StrEnum):
    """What the acquirer answers to an authorisation."""

    APPROVED = "approved"
    CHALLENGE = "challenge"  # the customer must pass 3DS first
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class Decision:
    """An authorisation answer; ``code``/``description`` are set when declined."""

    outcome: Outcome
    code: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A card authorisation as the processor sees it; the number lives only in this request."""

    operation_id: str
    pan: str = field(repr=False)
    expiration_month: str | None
    expiration_year: str | None
    amount: Money
    initiator: str | None = None  # recurrent charges: merchant (MIT) or client (CIT)
    three_ds_passed: bool = False


@dataclass(frozen=True, slots=True)
class Authorization:
    """The processor's answer: the decision and, when approved, its references."""

    decision: Decision
    transaction_info: TransactionInfo | None = None


class Processor(Protocol):
    """An acquirer: authorises card payments, captures, releases and refunds them."""

    async def authorize(self, request: AuthorizationRequest) -> Authorization:
        """Authorise (hold) ``request.amount`` on the card, or ask for 3DS, or decline."""
        ...

    async def capture(self, operation_id: str, amount: Money) -> None:
        """Capture ``amount`` of an authorised payment."""
        ...

    async def release(self, operation_id: str, amount: Money) -> None:
        """Release ``amount`` of a hold."""
        ...

    async def refund(self, operation_id: str, amount: Money) -> TransactionInfo:
        """Return ``amount`` of a captured payment to the card."""
        ...
