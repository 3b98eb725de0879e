"""Pydantic wire models of the protocol's shared objects (§4). Never domain or table classes.

Every object accepts ``[]`` for ``{}`` (what PHP clients send for an empty object), ignores
nulls like absent fields, and keeps unknown fields where the protocol's objects are open
(customer, participants, options) so they are echoed back.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from kassa.domain.errors import InvalidRequest
from kassa.domain.money import normalize_currency


class WireModel(BaseModel):
    """Base: ``[]`` reads as ``{}``; unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_list_is_object(cls, value: Any) -> Any:  # noqa: ANN401 - raw JSON
        return {} if value == [] else value


class OpenModel(WireModel):
    """An object whose unknown fields are kept and echoed."""

    model_config = ConfigDict(extra="allow", frozen=True)


def _currency(value: str) -> str:
    try:
        return normalize_currency(value)
    except InvalidRequest as exc:
        raise ValueError(exc.description.removeprefix("currency: ")) from None


Currency = Annotated[StrictStr, Field(examples=["usd"], min_length=3, max_length=3)]


class AmountDetails(WireModel):
    """Amount in minor units (``10000`` = 100.00 USD) and an ISO 4217 currency."""

    amount: StrictInt = Field(gt=0, examples=[10000])
    currency: Currency

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        return _currency(value)


class BankCard(WireModel):
    """A clear card (server-to-server, PCI DSS). The number is vaulted, the CVC never stored."""

    number: StrictStr = Field(min_length=12, max_length=23, examples=["4242424242424242"])
    expiration_month: StrictStr | None = Field(default=None, examples=["05"])
    expiration_year: StrictStr | None = Field(default=None, examples=["25"])
    security_code: StrictStr | None = Field(default=None, min_length=3, max_length=4)
    cardholder_name: StrictStr | None = None


class EncryptedCard(WireModel):
    """A card from the tokenization vault, by its ``number_hash``."""

    number_hash: StrictStr = Field(min_length=1, max_length=128)


class TokenizedCard(WireModel):
    """A tokenized card (accepted, not processed by the sandbox)."""

    token: StrictStr


class Card(WireModel):
    """``{"type": "bank_card", "bank_card": {…}}`` or an encrypted/tokenized card."""

    type: Literal["bank_card", "encrypted_card", "tokenized_card"]
    bank_card: BankCard | None = None
    encrypted_card: EncryptedCard | None = None
    tokenized_card: TokenizedCard | None = None

    @model_validator(mode="after")
    def _branch_present(self) -> Card:
        if getattr(self, self.type) is None:
            msg = f"{self.type}: required when type is {self.type!r}"
            raise ValueError(msg)
        return self


class CardDetails(WireModel):
    """Payment instrument: a card."""

    type: Literal["card"]
    card: Card


class Recurrent(WireModel):
    """A recurrent token charge: MIT (``merchant``) or CIT (``client``)."""

    token: StrictStr = Field(min_length=1)
    initiator: Literal["merchant", "client"] = "merchant"
    security_code: StrictStr | None = None


class RecurrentDetails(WireModel):
    """Payment instrument: a recurrent token."""

    type: Literal["recurrent"]
    recurrent: Recurrent


class OtherPaymentDetails(OpenModel):
    """Payment instruments kassa accepts and stores but the sandbox does not process yet."""

    type: Literal[
        "internet_banking",
        "bank_account",
        "faster_payment_system",
        "faster_payment_system_binding",
        "secured_card",
        "crypto_wallet",
        "tax",
    ]


PaymentDetails = Annotated[
    CardDetails | RecurrentDetails | OtherPaymentDetails,
    Field(discriminator="type"),
]


class PayoutCard(WireModel):
    """Payout destination card: a clear number or a vaulted ``number_hash``."""

    type: Literal["bank_card", "encrypted_card"]
    bank_card: BankCard | None = None
    encrypted_card: EncryptedCard | None = None

    @model_validator(mode="after")
    def _branch_present(self) -> PayoutCard:
        if getattr(self, self.type) is None:
            msg = f"{self.type}: required when type is {self.type!r}"
            raise ValueError(msg)
        return self


class PayoutCardMethod(WireModel):
    """Payout to a card."""

    type: Literal["card"]
    card: PayoutCard


class OtherPayoutMethod(OpenModel):
    """Payout destinations accepted and stored as given."""

    type: Literal["crypto_wallet", "tax"]


class Contact(OpenModel):
    """A way to reach the customer."""

    email: StrictStr | None = None
    phone: StrictStr | None = None


class Customer(OpenModel):
    """Your user: ``reference`` is their id in your system."""

    reference: StrictStr | None = Field(default=None, min_length=1, max_length=255)
    contacts: list[Contact] | None = None


class Participant(OpenModel):
    """Sender or recipient (names, address, documents; all optional strings)."""

    full_name: StrictStr | None = None
    first_name: StrictStr | None = None
    last_name: StrictStr | None = None
    middle_name: StrictStr | None = None
    company_name: StrictStr | None = None
    email: StrictStr | None = None
    country_iso3: StrictStr | None = None
    country_iso2: StrictStr | None = None


class ParticipantDetails(OpenModel):
    """Who sends and who receives."""

    sender: Participant | None = None
    recipient: Participant | None = None


class PaymentOptions(OpenModel):
    """Return URL after a customer step, recurrent flag, and other options."""

    return_url: StrictStr | None = Field(default=None, max_length=2048)
    recurrent: StrictBool | None = None


class ErrorObject(BaseModel):
    """``{"code": …, "description": …}``; both always strings."""

    code: str
    description: str


class ErrorResponse(BaseModel):
    """The one error envelope."""

    status: Literal["error"] = "error"
    error: ErrorObject
