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


@dataclass(frozen=True, slots=True)
class RefundAnswer:
    """Whether the acquirer accepted a refund, with its references."""

    accepted: bool
    transaction_info: TransactionInfo | None = None
    code: str | None = None
    description: str | None = None


class PayeeKind(StrEnum):
    """What a payout is sent to."""

    CARD = "card"
    BANK_ACCOUNT = "bank_account"
    FPS = "faster_payment_system"
    WALLET = "wallet"


@dataclass(frozen=True, slots=True)
class PayoutRequest:
    """A payout as the rail sees it; ``identifier`` (card, account, phone) is clear only here."""

    operation_id: str
    kind: PayeeKind
    identifier: str = field(repr=False)
    amount: Money


@dataclass(frozen=True, slots=True)
class PayoutAnswer:
    """The rail's answer: paid out (with references) or refused with a code."""

    accepted: bool
    transaction_info: TransactionInfo | None = None
    code: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class FpsBank:
    """A bank of the Faster Payment System, as ``fps/banks`` lists it."""

    id: str
    eng_name: str
    ru_name: str


@dataclass(frozen=True, slots=True)
class ProcessorRecord:
    """One call as the processor itself recorded it (its settlement report, in effect).

    ``outcome``: ``approved``/``challenge``/``declined`` for authorisations, ``done`` for a
    capture or release, ``accepted``/``declined`` for refunds and payouts.
    """

    key: str
    kind: str
    operation_id: str
    amount: int
    currency: str
    outcome: str


class Processor(Protocol):
    """An acquirer: authorises card payments, captures, releases and refunds them.

    Every call carries an operation-scoped ``key``. A processor answers a repeated key with its
    first answer and never acts twice, so kassa may ask again after a crash; the same key with
    another request is an error. kassa calls it only after the intent has committed.
    """

    async def authorize(self, key: str, request: AuthorizationRequest) -> Authorization:
        """Authorise (hold) ``request.amount`` on the card, or ask for 3DS, or decline."""
        ...

    async def capture(self, key: str, operation_id: str, amount: Money) -> None:
        """Capture ``amount`` of an authorised payment; the rest of the hold is released."""
        ...

    async def release(self, key: str, operation_id: str, amount: Money) -> None:
        """Release the hold of ``amount``."""
        ...

    async def refund(self, key: str, operation_id: str, amount: Money) -> RefundAnswer:
        """Return ``amount`` of a captured payment to the card (``operation_id``: the refund)."""
        ...

    async def payout(self, key: str, request: PayoutRequest) -> PayoutAnswer:
        """Pay ``request.amount`` out to the payee (the money was reserved in kassa first)."""
        ...

    async def verify_fps(self, key: str, operation_id: str, phone: str, bank_id: str) -> bool:
        """Whether the phone is registered in the Faster Payment System at ``bank_id``."""
        ...

    async def fps_banks(self) -> list[FpsBank]:
        """The banks an FPS payout or verification may name (a read, no side effect)."""
        ...

    async def chargeback(self, key: str, operation_id: str, amount: Money) -> TransactionInfo:
        """The scheme's notice that ``amount`` of a payment was charged back (sandbox: asked)."""
        ...

    async def records(self) -> list[ProcessorRecord]:
        """Every call the processor acted on, oldest first (for reconciliation)."""
        ...
