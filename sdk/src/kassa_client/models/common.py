"""Small protocol objects (§4.5, §4.8-4.15): money, people, options, tokens, wallets, widgets.

Money is always an ``int`` of minor units: ``AmountDetails(amount=10000, currency="usd")`` is
100.00 USD. Floats and numeric strings are refused.
"""

from datetime import datetime
from typing import Any

from pydantic import Field, StrictInt

from kassa_client.models._base import KassaModel


class AmountDetails(KassaModel):
    """An amount in minor units and an ISO 4217 currency code (any case)."""

    amount: StrictInt
    currency: str


class Amounts(KassaModel):
    """Net, gross and fee of an operation (Bank 131's ``amounts``)."""

    net: AmountDetails | None = None
    gross: AmountDetails | None = None
    fee: dict[str, AmountDetails] | None = None


class Contact(KassaModel):
    """A way to reach a customer."""

    email: str | None = None
    phone: str | None = None


class Customer(KassaModel):
    """Your user: ``reference`` is their id in your system (mandatory for payments)."""

    reference: str | None = None
    contacts: list[Contact] | None = None


class Participant(KassaModel):
    """A sender or recipient. The protocol has many optional fields; any other is kept too."""

    full_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    company_name: str | None = None
    reference: str | None = None
    email: str | None = None
    msisdn: str | None = None
    country_iso2: str | None = None
    country_iso3: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    address_line: str | None = None
    street: str | None = None
    building: str | None = None
    ipv4: str | None = None
    document: str | None = None
    currency: str | None = None
    bank_name: str | None = None
    registration_number: str | None = None
    date_of_birth: str | None = None


class ParticipantDetails(KassaModel):
    """Who sends and who receives the money."""

    sender: Participant | None = None
    recipient: Participant | None = None


class PaymentOptions(KassaModel):
    """Where the payer returns after 3DS or a redirect, whether to create a recurrent token."""

    return_url: str | None = None
    recurrent: bool | None = None


class OperationError(KassaModel):
    """Why an operation or session failed: ``{"code", "description"}``."""

    code: str
    description: str | None = None


class TransactionInfo(KassaModel):
    """Acquirer references: RRN, authorisation code (ARN and others when given)."""

    rrn: str | None = None
    auth_code: str | None = None
    arn: str | None = None


class Redirect(KassaModel):
    """Where to send the payer: open ``base_url`` with ``method``, query ``qs``, form ``params``."""

    url: str | None = None
    base_url: str | None = None
    method: str | None = None
    qs: dict[str, str] = Field(default_factory=dict)
    params: dict[str, str] = Field(default_factory=dict)


class CustomerInteraction(KassaModel):
    """What the payer must do (3DS page, redirect, QR): ``type`` names the object beside it."""

    type: str
    redirect: Redirect | None = None
    inform: dict[str, Any] | None = None


class RecurrentToken(KassaModel):
    """A recurrent (card-on-file) token; ``is_active`` turns false once disabled."""

    token: str
    created_at: datetime | None = None
    finished_at: datetime | None = None
    is_active: bool | None = None
    type: str = "recurrent_token"


class TokenInfo(KassaModel):
    """What ``token/info`` reveals: a masked card behind a ``number_hash``, or a token's state."""

    type: str | None = None
    token: str | None = None
    number_hash: str | None = None
    brand: str | None = None
    last4: str | None = None
    bin: str | None = None
    country_iso3: str | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None
    is_active: bool | None = None
    # a public token (kassa): until when it opens its widgets, which, and what it produced
    expires_at: datetime | None = None
    widgets: list[str] | None = None
    session_id: str | None = None
    payment_id: str | None = None


class Wallet(KassaModel):
    """One prefunding balance (``wallet/balance``), in minor units."""

    id: str
    amount_details: AmountDetails


class FpsBank(KassaModel):
    """A bank of the Faster Payment System (``fps/banks``)."""

    id: str
    eng_name: str | None = None
    ru_name: str | None = None


class TokenizeWidget(KassaModel):
    """The card-tokenization form (payouts to cards)."""

    access: bool = True
    locale: str | None = None


class AcquiringWidget(KassaModel):
    """The payment form for one session."""

    session_id: str
    locale: str | None = None
    show_recurrent_checkbox: bool | None = None
    success_return_url: str | None = None
    failure_return_url: str | None = None
    success_on_hold: bool | None = None
    redirect_target: str | None = None


class FpsNoAccountWidget(KassaModel):
    """The FPS money-transfer page for one session."""

    session_id: str
