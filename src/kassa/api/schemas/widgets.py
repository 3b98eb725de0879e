"""Wire models of the ``token`` method (§3.12, §4.15): which widgets a public token opens."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictBool,
    StrictStr,
    field_validator,
    model_validator,
)

from kassa.api.schemas.common import WireModel

Locale = Literal["en", "ru"]
# The protocol's docs send "true"/"false" strings where Bank 131's SDK sends booleans.
Flag = StrictBool | Literal["true", "false"]


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        msg = "must be an http(s) URL"
        raise ValueError(msg)
    return value


ReturnUrl = Annotated[StrictStr, Field(max_length=2048), AfterValidator(_http_url)]
SessionId = Annotated[StrictStr, Field(min_length=1, max_length=128)]


def flag(value: bool | str) -> bool:  # noqa: FBT001 - a wire value, not a switch
    """A ``Flag`` as a boolean."""
    return value is True or value == "true"


class TokenizeWidgetIn(WireModel):
    """``tokenize_widget``: the card-tokenization form (cards for payouts)."""

    access: StrictBool = Field(default=True, description="Must be true")
    locale: Locale = "en"

    @field_validator("access")
    @classmethod
    def _access_granted(cls, value: bool) -> bool:  # noqa: FBT001 - pydantic's signature
        if not value:
            msg = "must be true to issue a tokenize_widget token"
            raise ValueError(msg)
        return value


class AcquiringWidgetIn(WireModel):
    """``acquiring_widget``: the payment form of one created session."""

    session_id: SessionId
    locale: Locale = "en"
    show_recurrent_checkbox: Flag = False
    success_return_url: ReturnUrl | None = None
    failure_return_url: ReturnUrl | None = None
    success_on_hold: Flag = False


class FpsWidgetIn(WireModel):
    """``fps_no_account_widget``: the FPS transfer page of a session (token only, no page yet)."""

    session_id: SessionId


class TokenRequest(WireModel):
    """``token``: at least one widget object."""

    tokenize_widget: TokenizeWidgetIn | None = None
    acquiring_widget: AcquiringWidgetIn | None = None
    fps_no_account_widget: FpsWidgetIn | None = None
    self_employed_widget: Any = Field(default=None, description="Not supported by kassa")

    @model_validator(mode="after")
    def _one_widget(self) -> TokenRequest:
        if self.self_employed_widget is not None:
            msg = "self_employed_widget: not supported by kassa"
            raise ValueError(msg)
        if (
            self.tokenize_widget is None
            and self.acquiring_widget is None
            and self.fps_no_account_widget is None
        ):
            msg = (
                "body: at least one of tokenize_widget, acquiring_widget, "
                "fps_no_account_widget is required"
            )
            raise ValueError(msg)
        return self


class TokenResponse(BaseModel):
    """``{"status": "ok", "public_token": "…"}``: 64 hex characters, valid 24 h."""

    status: Literal["ok"]
    public_token: str
