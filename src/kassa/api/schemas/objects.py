"""Response objects nested in a PaymentSession (§4.2, §4.4, §4.12, §4.14), for the OpenAPI document.

The reply bytes are rendered by ``service/wire.py``; these models describe them. Absent fields
are omitted on the wire, never sent as null.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from kassa.api.schemas.common import AmountDetails  # noqa: TC001 - pydantic needs it at run time


class ErrorOut(BaseModel):
    """Why an operation failed (§4.14)."""

    code: str
    description: str


class TransactionInfoOut(BaseModel):
    """Acquirer references of a payment or refund (§4.12)."""

    rrn: str
    auth_code: str


class FeeOut(BaseModel):
    """``{merchant_fee: AmountDetails}``."""

    merchant_fee: AmountDetails


class AmountsOut(BaseModel):
    """Bank 131's ``Amounts``: gross, net and the fee (0 unless fees are configured)."""

    gross: AmountDetails
    net: AmountDetails
    fee: FeeOut


class RefundOut(BaseModel):
    """A Refund (§4.4)."""

    id: str = Field(examples=["rf_01hzx3k7g2v5c8q9w0e1r2t3y4"])
    status: Literal["in_progress", "accepted", "declined", "error"]
    created_at: str
    finished_at: str | None = None
    amount_details: AmountDetails
    amounts: AmountsOut
    is_chargeback: bool
    transaction_info: TransactionInfoOut | None = None
    metadata: Any = None


class PaymentRecurrentOut(BaseModel):
    """The recurrent token a payment with ``payment_options.recurrent`` created (§4.13)."""

    token: str
    created_at: str
    finished_at: str | None = None
    is_active: bool
    type: Literal["recurrent_token"]


class SplitOut(BaseModel):
    """One part of ``revenue_split_info``."""

    contractor_alias: str
    amount: int | None = None
    percent: int | float | None = None
    remains: bool | None = None


class AcquiringPaymentOut(BaseModel):
    """An AcquiringPayment (§4.2): ``acquiring_payments`` (v1) / ``payment_list`` (v2)."""

    id: str = Field(examples=["pm_01hzx3k7g2v5c8q9w0e1r2t3y4"])
    status: Literal["in_progress", "pending", "succeeded", "failed"]
    created_at: str
    updated_at: str
    finished_at: str | None = None
    customer: dict[str, Any] | None = None
    payment_details: dict[str, Any] | None = Field(
        default=None,
        description="Masked: cards show only brand, last4, bin",
    )
    amount_details: AmountDetails | None = None
    amounts: AmountsOut | None = None
    participant_details: dict[str, Any] | None = None
    payment_options: dict[str, Any] | None = None
    customer_interaction: dict[str, Any] | None = Field(
        default=None,
        description="3DS redirect: type, redirect {url, base_url, method, qs, params}",
    )
    refunds: list[RefundOut] = Field(default_factory=list, description="[] before any refund")
    transaction_info: TransactionInfoOut | None = None
    recurrent: PaymentRecurrentOut | None = None
    revenue_split_info: list[SplitOut] | None = None
    metadata: Any = None
    error: ErrorOut | None = None


class _PayoutOut(BaseModel):
    """A payout (§4.3): destination masked, ``refunds`` always ``[]`` (payouts are final)."""

    id: str = Field(examples=["po_01hzx3k7g2v5c8q9w0e1r2t3y4"])
    status: Literal["in_progress", "pending", "succeeded", "failed"]
    created_at: str
    updated_at: str
    finished_at: str | None = None
    customer: dict[str, Any] | None = None
    amount_details: AmountDetails
    amounts: AmountsOut
    participant_details: dict[str, Any] | None = None
    transaction_info: TransactionInfoOut | None = None
    refunds: list[RefundOut] = Field(default_factory=list)
    metadata: Any = None
    error: ErrorOut | None = None


_MASKED = "Masked: cards as brand, last4, bin; account numbers, IBANs and phones as ****1234"


class PayoutOutV1(_PayoutOut):
    """A payout in v1 names (``payment_method``)."""

    payment_method: dict[str, Any] = Field(description=_MASKED)


class PayoutOutV2(_PayoutOut):
    """A payout in v2 names (``payout_details``)."""

    payout_details: dict[str, Any] = Field(description=_MASKED)
