"""Commands: one frozen dataclass per API method, built by the API edge from wire models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kassa.domain.recurrent import Initiator

if TYPE_CHECKING:
    from kassa.domain.json import JSON, JSONObject
    from kassa.domain.money import Money
    from kassa.domain.public_token import AcquiringWidget, TokenizeWidget
    from kassa.domain.session import ApiVersion


@dataclass(frozen=True, slots=True)
class BankCardInput:
    """A card as the client sent it. Lives only for one request; the number goes to the vault."""

    number: str
    expiration_month: str | None = None
    expiration_year: str | None = None
    security_code: str | None = field(default=None, repr=False)
    cardholder_name: str | None = None

    def __repr__(self) -> str:
        """Never show the card number."""
        return f"BankCardInput(last4={self.number[-4:]!r})"


@dataclass(frozen=True, slots=True)
class CardInput:
    """A card from the wire: exactly one of a clear ``bank_card`` or a vaulted ``number_hash``."""

    bank_card: BankCardInput | None = None
    number_hash: str | None = None


@dataclass(frozen=True, slots=True)
class RecurrentInput:
    """A charge on a recurrent token (the CVC, if sent, is dropped at the edge)."""

    token: str
    initiator: Initiator = Initiator.MERCHANT


@dataclass(frozen=True, slots=True)
class MethodInput:
    """A payment method or payout destination kept as its validated wire object."""

    type: str
    data: JSONObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GlobalAccountInput:
    """``bank_account.global`` as validated at the edge (any field may be missing at create)."""

    description: str | None = None
    iban: str | None = field(default=None, repr=False)
    swift_bic_code: str | None = None
    account_number: str | None = field(default=None, repr=False)
    sort_code: str | None = None
    bank_account_number: str | None = field(default=None, repr=False)
    routing_code: str | None = None
    account_type: str | None = None
    branch_number: str | None = None


@dataclass(frozen=True, slots=True)
class FpsAccountInput:
    """``bank_account.faster_payment_system``: phone in E.164 digits, bank, purpose."""

    phone: str | None = field(default=None, repr=False)
    bank_id: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class FpsCheckInput:
    """``bank_account.faster_payment_system_verification``."""

    phone: str | None = field(default=None, repr=False)
    bank_id: str | None = None


@dataclass(frozen=True, slots=True)
class WalletInput:
    """``wallet.global``: name, purpose, msisdn in E.164 digits."""

    name: str | None = None
    description: str | None = None
    msisdn: str | None = field(default=None, repr=False)


PaymentInput = CardInput | RecurrentInput | MethodInput
DestinationInput = (
    CardInput | GlobalAccountInput | FpsAccountInput | FpsCheckInput | WalletInput | MethodInput
)


@dataclass(frozen=True, slots=True)
class DraftInput:
    """Operation data a request may carry (create, init, start)."""

    amount: Money | None = None
    payment_details: PaymentInput | None = None
    payout_details: DestinationInput | None = None
    customer: JSONObject | None = None
    participant_details: JSONObject | None = None
    payment_options: JSONObject | None = None
    metadata: JSON = None
    has_metadata: bool = False
    extra: JSONObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CreateSession:
    """``session/create``."""

    project_id: str
    api_version: ApiVersion
    draft: DraftInput


@dataclass(frozen=True, slots=True)
class GetSession:
    """``session/status``."""

    project_id: str
    api_version: ApiVersion
    session_id: str


@dataclass(frozen=True, slots=True)
class StartPayment:
    """``session/init/payment`` (``session_id`` None) or ``session/start/payment``."""

    project_id: str
    api_version: ApiVersion
    draft: DraftInput
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class StartPayout:
    """``session/init/payout`` (``session_id`` None) or ``session/start/payout``."""

    project_id: str
    api_version: ApiVersion
    draft: DraftInput
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class MultiInit:
    """``session/multi/init`` (v2): several payments and payouts in one new session."""

    project_id: str
    api_version: ApiVersion
    payments: tuple[DraftInput, ...]
    payouts: tuple[DraftInput, ...]


@dataclass(frozen=True, slots=True)
class VerifyFpsCustomer:
    """``fps/customer_verification`` on a created session."""

    project_id: str
    api_version: ApiVersion
    session_id: str
    draft: DraftInput


@dataclass(frozen=True, slots=True)
class SessionAction:
    """``session/confirm`` or ``session/cancel``."""

    project_id: str
    api_version: ApiVersion
    session_id: str


@dataclass(frozen=True, slots=True)
class CapturePayment:
    """``session/capture``: the whole hold, or ``amount`` of it."""

    project_id: str
    api_version: ApiVersion
    session_id: str
    amount: Money | None = None


@dataclass(frozen=True, slots=True)
class RefundPayment:
    """``session/refund``: the rest of the captured amount, or ``amount``."""

    project_id: str
    api_version: ApiVersion
    session_id: str
    amount: Money | None = None
    metadata: JSON = None
    has_metadata: bool = False


@dataclass(frozen=True, slots=True)
class ThreeDsAnswer:
    """The customer passed or failed the sandbox 3DS page."""

    payment_id: str
    token: str
    passed: bool


@dataclass(frozen=True, slots=True)
class RecurrentTokenQuery:
    """``recurrent/status`` and ``recurrent/disable``."""

    project_id: str
    token: str


@dataclass(frozen=True, slots=True)
class IssueToken:
    """``token``: a public token for one or more widgets (at least one is set)."""

    project_id: str
    tokenize: TokenizeWidget | None = None
    acquiring: AcquiringWidget | None = None
    fps_session_id: str | None = None
