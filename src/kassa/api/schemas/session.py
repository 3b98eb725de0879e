"""Wire models of the ``session/*`` methods, in v1 and v2 field names."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from kassa.api.schemas.common import (
    AmountDetails,
    Customer,
    ParticipantDetails,
    PaymentDetails,
    PaymentOptions,
    WireModel,
)
from kassa.api.schemas.destinations import PaymentMethod  # noqa: TC001 - pydantic needs it
from kassa.api.schemas.objects import (  # noqa: TC001 - pydantic needs them
    AcquiringPaymentOut,
    PayoutOutV1,
    PayoutOutV2,
)

# Fields of Bank 131's request model that kassa stores and echoes without acting on them.
PASSTHROUGH = ("fiscalization_details", "custom_routing", "revenue_split_info", "payment_metadata")


class _SessionData(WireModel):
    """Operation data shared by ``session/create``, ``init`` and ``start``."""

    payment_details: PaymentDetails | None = None
    amount_details: AmountDetails | None = None
    participant_details: ParticipantDetails | None = None
    customer: Customer | None = None
    payment_options: PaymentOptions | None = None
    metadata: Any = Field(default=None, description="Free data echoed in responses and webhooks")
    fiscalization_details: Any = None
    custom_routing: Any = None
    revenue_split_info: Any = None
    payment_metadata: Any = None


def _reject(data: Any, name: str, use: str) -> Any:  # noqa: ANN401 - raw JSON
    if isinstance(data, dict) and name in data:
        msg = f"{name}: not a field in this API version, use {use}"
        raise ValueError(msg)
    return data


class SessionCreateV1(_SessionData):
    """``POST /api/v1/session/create``."""

    payment_method: PaymentMethod | None = None

    @model_validator(mode="before")
    @classmethod
    def _v1_names(cls, data: Any) -> Any:  # noqa: ANN401 - raw JSON
        return _reject(data, "payout_details", "payment_method")


class SessionCreateV2(_SessionData):
    """``POST /api/v2/session/create``."""

    payout_details: PaymentMethod | None = None

    @model_validator(mode="before")
    @classmethod
    def _v2_names(cls, data: Any) -> Any:  # noqa: ANN401 - raw JSON
        return _reject(data, "payment_method", "payout_details")


class SessionIdRequest(WireModel):
    """``{"session_id": "ps_…"}`` (``session/status``, ``confirm``, ``cancel``)."""

    session_id: StrictStr = Field(min_length=1, max_length=128)


class _SessionOut(BaseModel):
    """The PaymentSession object (§4.1) and the data given at create."""

    model_config = ConfigDict(extra="allow")

    id: str
    status: Literal["created", "in_progress", "accepted", "cancelled", "error"]
    created_at: str
    updated_at: str
    finished_at: str | None = None
    next_action: Literal["confirm", "capture"] | None = None
    amount_details: AmountDetails | None = None
    customer: dict[str, Any] | None = None
    participant_details: dict[str, Any] | None = None
    payment_options: dict[str, Any] | None = None
    payment_details: dict[str, Any] | None = Field(
        default=None,
        description="Masked: cards show only brand, last4, bin",
    )
    metadata: Any = None
    fiscalization_details: Any = None
    custom_routing: Any = None
    revenue_split_info: Any = None
    payment_metadata: Any = None


class PaymentSessionV1(_SessionOut):
    """PaymentSession with v1 names."""

    payment_method: dict[str, Any] | None = None
    acquiring_payments: list[AcquiringPaymentOut] | None = None
    payments: list[PayoutOutV1] | None = None


class PaymentSessionV2(_SessionOut):
    """PaymentSession with v2 names."""

    payout_details: dict[str, Any] | None = None
    payment_list: list[AcquiringPaymentOut] | None = None
    payout_list: list[PayoutOutV2] | None = None


class SessionResponseV1(BaseModel):
    """``{"status": "ok", "session": …}`` (v1)."""

    status: Literal["ok"]
    session: PaymentSessionV1


class SessionResponseV2(BaseModel):
    """``{"status": "ok", "session": …}`` (v2)."""

    status: Literal["ok"]
    session: PaymentSessionV2
