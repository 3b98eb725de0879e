"""Wire models of the payout methods: init/start payout, multi/init, FPS, wallet, chargeback."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, StrictStr, model_validator

from kassa.api.schemas.common import WireModel
from kassa.api.schemas.destinations import PaymentMethod  # noqa: TC001 - pydantic needs it
from kassa.api.schemas.payment import PaymentInitRequest  # noqa: TC001 - pydantic needs it
from kassa.api.schemas.session import SessionIdRequest, _reject, _SessionData


class _V1(_SessionData):
    payment_method: PaymentMethod | None = None

    @model_validator(mode="before")
    @classmethod
    def _v1_names(cls, data: Any) -> Any:  # noqa: ANN401 - raw JSON
        return _reject(data, "payout_details", "payment_method")


class _V2(_SessionData):
    payout_details: PaymentMethod | None = None

    @model_validator(mode="before")
    @classmethod
    def _v2_names(cls, data: Any) -> Any:  # noqa: ANN401 - raw JSON
        return _reject(data, "payment_method", "payout_details")


class PayoutInitV1(_V1):
    """``POST /api/v1/session/init/payout``: create a session and start its payout."""


class PayoutInitV2(_V2):
    """``POST /api/v2/session/init/payout``."""


class PayoutStartV1(_V1):
    """``POST /api/v1/session/start/payout``: start a payout in an existing session."""

    session_id: StrictStr = Field(min_length=1, max_length=128)


class PayoutStartV2(_V2):
    """``POST /api/v2/session/start/payout``."""

    session_id: StrictStr = Field(min_length=1, max_length=128)


class FpsVerificationV1(PayoutStartV1):
    """``fps/customer_verification`` (v1): ``session_id`` and the phone to check."""


class FpsVerificationV2(PayoutStartV2):
    """``fps/customer_verification`` (v2)."""


class MultiInitRequest(WireModel):
    """``POST /api/v2/session/multi/init``: several payments and payouts in one session."""

    payment_list: list[PaymentInitRequest] = Field(default_factory=list, max_length=50)
    payout_list: list[PayoutInitV2] = Field(default_factory=list, max_length=50)


class WalletBalanceRequest(WireModel):
    """``wallet/balance``: ``request_datetime`` with an offset (the PHP SDK sends ATOM)."""

    request_datetime: AwareDatetime = Field(examples=["2024-04-10T19:53:00+03:00"])


class ChargebackRequest(SessionIdRequest):
    """``session/chargeback`` (sandbox only): charge back what is left of the payment."""


class WalletOut(BaseModel):
    """A WalletDetails: ``{id, amount_details}``."""

    id: str
    amount_details: dict[str, Any]


class WalletBalanceResponse(BaseModel):
    """``{"status": "ok", "wallets": [...]}``."""

    status: Literal["ok"]
    wallets: list[WalletOut]


class FpsBankOut(BaseModel):
    """A bank of ``fps/banks``."""

    id: str
    eng_name: str
    ru_name: str


class FpsBanksResponse(BaseModel):
    """``{"status": "ok", "banks": [...]}``."""

    status: Literal["ok"]
    banks: list[FpsBankOut]


class FpsBanksRequest(WireModel):
    """``fps/banks``: an empty body (the PHP SDK sends a signed ``[]`` with GET)."""
