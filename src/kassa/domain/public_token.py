"""Public tokens: what the ``token`` method issues for the card widgets (§3.12, §4.15).

A public token is a bearer secret handed to the customer's browser. kassa keeps only its
SHA-256 (``token_hash``), never the token itself. A token is bound to one project and, for
``acquiring_widget`` and ``fps_no_account_widget``, to one session; it lives 24 h (a setting)
and serves one completed operation: a vaulted card or a started payment (``used_at``).

State, derived from the times (no transition table: a token only ever gets used or expires)::

    active ──tokenize / pay completed──► used
    active ──expires_at passed─────────► expired
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime  # noqa: TC003 - dataclass field type
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from kassa.domain.errors import PublicTokenExpired, PublicTokenNotFound, PublicTokenUsed

if TYPE_CHECKING:
    from kassa.domain.json import JSONObject

LOCALES: Final = ("en", "ru")
DEFAULT_LOCALE: Final = "en"


class WidgetKind(StrEnum):
    """The widget objects of the ``token`` request, by their wire names."""

    TOKENIZE = "tokenize_widget"
    ACQUIRING = "acquiring_widget"
    FPS = "fps_no_account_widget"


class TokenState(StrEnum):
    """Where a public token is (derived from its times)."""

    ACTIVE = "active"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class TokenizeWidget:
    """``tokenize_widget``: ``{access: true, locale?}``."""

    locale: str = DEFAULT_LOCALE


@dataclass(frozen=True, slots=True)
class AcquiringWidget:
    """``acquiring_widget``: the payment form of one session."""

    session_id: str
    locale: str = DEFAULT_LOCALE
    show_recurrent_checkbox: bool = False
    success_return_url: str | None = None
    failure_return_url: str | None = None
    success_on_hold: bool = False  # a payment waiting for confirm/capture counts as success


@dataclass(frozen=True, slots=True)
class PublicToken:
    """A stored public token (by hash) with the widgets it opens and what it produced."""

    token_hash: str
    project_id: str
    created_at: datetime
    expires_at: datetime
    tokenize: TokenizeWidget | None = None
    acquiring: AcquiringWidget | None = None
    fps_session_id: str | None = None
    used_at: datetime | None = None
    card_attempts: int = 0
    result: JSONObject = field(default_factory=dict)  # tokenize: number_hash, brand, last4

    @property
    def session_id(self) -> str | None:
        """The session the token is bound to, if any."""
        if self.acquiring is not None:
            return self.acquiring.session_id
        return self.fps_session_id

    @property
    def kinds(self) -> tuple[WidgetKind, ...]:
        """The widgets this token opens, in wire order."""
        present = {
            WidgetKind.TOKENIZE: self.tokenize is not None,
            WidgetKind.ACQUIRING: self.acquiring is not None,
            WidgetKind.FPS: self.fps_session_id is not None,
        }
        return tuple(kind for kind, given in present.items() if given)

    def state(self, now: datetime) -> TokenState:
        """Used once an operation completed; expired from ``expires_at`` on."""
        if self.used_at is not None:
            return TokenState.USED
        if now >= self.expires_at:
            return TokenState.EXPIRED
        return TokenState.ACTIVE

    def require(self, kind: WidgetKind, now: datetime, *, allow_used: bool = False) -> None:
        """Raise unless the token opens ``kind`` and is active (or used, with ``allow_used``).

        A token issued for another widget is as unknown as a token never issued.
        """
        if kind not in self.kinds:
            raise PublicTokenNotFound("no such public token")
        state = self.state(now)
        if state is TokenState.EXPIRED or (state is TokenState.USED and now >= self.expires_at):
            raise PublicTokenExpired("the public token has expired")
        if state is TokenState.USED and not allow_used:
            raise PublicTokenUsed("the public token was already used")


def hash_token(token: str) -> str:
    """The SHA-256 (hex) under which a public token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
