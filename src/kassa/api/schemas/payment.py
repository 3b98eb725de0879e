"""Wire models of the acquiring methods: init/start payment, capture, refund, recurrent, token."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, StrictStr, model_validator

from kassa.api.schemas.common import AmountDetails, EncryptedCard, WireModel
from kassa.api.schemas.session import SessionIdRequest, _SessionData


class PaymentInitRequest(_SessionData):
    """``session/init/payment``: create a session and start its payment in one call."""


class PaymentStartRequest(_SessionData):
    """``session/start/payment``: start the payment of a created session."""

    session_id: StrictStr = Field(min_length=1, max_length=128)


class CaptureRequest(SessionIdRequest):
    """``session/capture``: the whole hold, or ``amount_details`` of it."""

    amount_details: AmountDetails | None = None


class RefundRequest(SessionIdRequest):
    """``session/refund``: the rest of the captured amount, or ``amount_details`` of it."""

    amount_details: AmountDetails | None = None
    metadata: Any = Field(default=None, description="Echoed in the refund")


class TokenRef(WireModel):
    """``{"token": "…"}``."""

    token: StrictStr = Field(min_length=1, max_length=256)


class RecurrentRequest(WireModel):
    """``recurrent/disable`` and ``recurrent/status``: ``{"recurrent": {"token": …}}``."""

    recurrent: TokenRef


class TokenInfoCard(WireModel):
    """``{"type": "encrypted_card", "encrypted_card": {"number_hash": …}}``."""

    type: Literal["encrypted_card"]
    encrypted_card: EncryptedCard


class TokenInfoRequest(WireModel):
    """``token/info``: what a card hash or recurrent token stands for."""

    type: Literal["card", "public_token", "recurrent_token"]
    card: TokenInfoCard | None = None
    public_token: TokenRef | None = None
    recurrent_token: TokenRef | None = None

    @model_validator(mode="after")
    def _branch_present(self) -> TokenInfoRequest:
        if getattr(self, self.type) is None:
            msg = f"{self.type}: required when type is {self.type!r}"
            raise ValueError(msg)
        return self


class RecurrentTokenOut(BaseModel):
    """RecurrentToken (§4.13)."""

    token: str
    created_at: str
    finished_at: str | None = None
    is_active: bool
    type: Literal["recurrent_token"] = "recurrent_token"


class RecurrentResponse(BaseModel):
    """``{"status": "ok", "recurrent": …}``."""

    status: Literal["ok"]
    recurrent: RecurrentTokenOut


class TokenInfoResponse(BaseModel):
    """``{"status": "ok", "info": …}``."""

    status: Literal["ok"]
    info: dict[str, Any]
