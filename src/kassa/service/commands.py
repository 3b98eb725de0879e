"""Commands: one frozen dataclass per API method, built by the API edge from wire models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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
class InstrumentInput:
    """A payment instrument or payout destination from the wire, discriminated by ``type``.

    For cards exactly one of ``bank_card`` (clear number) or ``number_hash`` (vaulted card) is
    set; other kinds keep their validated wire object in ``data``.
    """

    type: str
    bank_card: BankCardInput | None = None
    number_hash: str | None = None
    data: JSONObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DraftInput:
    """Operation data a request may carry (create, init, start)."""

    amount: Money | None = None
    payment_details: InstrumentInput | None = None
    payout_details: InstrumentInput | None = None
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
