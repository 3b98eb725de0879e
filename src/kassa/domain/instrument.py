"""Typed payer instruments and payout destinations, built once at the edge.

A payment is paid with a ``PaymentInstrument``::

    BankCard         a card number given in the request, vaulted before it gets here
    VaultedCard      a card from the vault by its ``number_hash`` (``encrypted_card``)
    RecurrentCharge  a charge on a recurrent token (MIT or CIT); bound to the token's card
    UnprocessedMethod  Pix, UPI, … : accepted, stored and echoed, not processed by the sandbox

A payout goes to a ``PayoutDestination``::

    PayoutCard            a card (clear number vaulted, or ``encrypted_card``)
    GlobalBankAccount     ``bank_account`` with ``system_type: "global"``
    FasterPaymentAccount  ``bank_account`` with ``system_type: "faster_payment_system"`` (RUB)
    FpsVerification       ``faster_payment_system_verification`` (``fps/customer_verification``)
    GlobalWallet          ``wallet`` with ``type: "global"``
    UnprocessedDestination  other kinds, accepted and stored as given

Card numbers never appear here: a card is a ``CardRef`` (vault hash and masked data).
Account numbers, IBANs and phones of destinations are ``Sealed``: encrypted by the vault,
with only their last four characters in clear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from kassa.domain.recurrent import Initiator

if TYPE_CHECKING:
    from kassa.domain.json import JSONObject


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
class Sealed:
    """A sensitive value kept encrypted (``ciphertext``, base64) with its last four in clear."""

    last4: str
    ciphertext: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class BankCard:
    """A clear card number given in the request (already vaulted as ``card``)."""

    card: CardRef


@dataclass(frozen=True, slots=True)
class VaultedCard:
    """A card from the project's vault, given by its ``number_hash``."""

    card: CardRef


@dataclass(frozen=True, slots=True)
class RecurrentCharge:
    """A charge on a recurrent token; ``card`` is the token's vaulted card once resolved."""

    token: str
    initiator: Initiator = Initiator.MERCHANT
    card: CardRef | None = None


@dataclass(frozen=True, slots=True)
class UnprocessedMethod:
    """A payment method the sandbox does not process; its validated wire object is kept."""

    type: str
    data: JSONObject = field(default_factory=dict)


PaymentInstrument: TypeAlias = BankCard | VaultedCard | RecurrentCharge | UnprocessedMethod


@dataclass(frozen=True, slots=True)
class PayoutCard:
    """A card to pay out to (a clear number vaulted on arrival, or ``encrypted_card``)."""

    card: CardRef


@dataclass(frozen=True, slots=True)
class GlobalBankAccount:
    """A cross-border bank account; which fields are set depends on the country.

    Every field may be missing while the destination is only pre-filled at session/create;
    a payout checks that what it needs is there (``service/payouts.py``).
    """

    description: str | None = None
    iban: Sealed | None = None
    swift_bic_code: str | None = None
    account_number: Sealed | None = None
    sort_code: str | None = None
    bank_account_number: Sealed | None = None
    routing_code: str | None = None
    account_type: str | None = None
    branch_number: str | None = None


@dataclass(frozen=True, slots=True)
class FasterPaymentAccount:
    """A Russian FPS (SBP) transfer by phone to a bank of ``fps/banks``."""

    phone: Sealed | None = None
    bank_id: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class FpsVerification:
    """``faster_payment_system_verification``: is this phone registered at this bank?"""

    phone: Sealed | None = None
    bank_id: str | None = None


@dataclass(frozen=True, slots=True)
class GlobalWallet:
    """An e-wallet reached by its ``msisdn``."""

    name: str | None = None
    description: str | None = None
    msisdn: Sealed | None = None


@dataclass(frozen=True, slots=True)
class UnprocessedDestination:
    """A payout destination the sandbox does not pay out to; kept as given."""

    type: str
    data: JSONObject = field(default_factory=dict)


PayoutDestination: TypeAlias = (
    PayoutCard
    | GlobalBankAccount
    | FasterPaymentAccount
    | FpsVerification
    | GlobalWallet
    | UnprocessedDestination
)

CARD_INSTRUMENTS = (BankCard, VaultedCard, RecurrentCharge)


def card_of(value: PaymentInstrument | PayoutDestination | None) -> CardRef | None:
    """The card behind an instrument or destination, if it has one."""
    if isinstance(value, BankCard | VaultedCard | RecurrentCharge | PayoutCard):
        return value.card
    return None
