"""The PaymentSession and its operations (§4.1-4.4), one shape for API v1 and v2.

v2 renamed three fields; this client reads either name into one attribute, so your code is
the same whichever version the client (or the webhook) speaks:

| attribute                        | v1 wire name          | v2 wire name     |
|----------------------------------|-----------------------|------------------|
| ``PaymentSession.acquiring_payments`` | ``acquiring_payments`` | ``payment_list`` |
| ``PaymentSession.payments`` (payouts) | ``payments``          | ``payout_list``  |
| ``payment_method`` (on Payout, PaymentSession) | ``payment_method`` | ``payout_details`` |
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, Field

from kassa_client.models._base import KassaModel
from kassa_client.models.common import (
    AmountDetails,
    Amounts,
    Customer,
    CustomerInteraction,
    OperationError,
    ParticipantDetails,
    PaymentOptions,
    RecurrentToken,
    TransactionInfo,
)
from kassa_client.models.instruments import PaymentDetails, PaymentMethod


class SessionStatus(StrEnum):
    """A session's status; ``error`` is not final (ask support)."""

    CREATED = "created"
    IN_PROGRESS = "in_progress"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"
    ERROR = "error"


class OperationStatus(StrEnum):
    """A payment's or payout's status; ``pending`` waits for your confirm, cancel or capture."""

    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RefundStatus(StrEnum):
    """A refund's status."""

    IN_PROGRESS = "in_progress"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ERROR = "error"


class NextAction(StrEnum):
    """What the server waits for from you."""

    CONFIRM = "confirm"
    CAPTURE = "capture"


def _either(v1: str, v2: str) -> Any:  # noqa: ANN401 - pydantic's FieldInfo
    return Field(default=None, validation_alias=AliasChoices(v1, v2))


def _either_list(v1: str, v2: str) -> Any:  # noqa: ANN401 - pydantic's FieldInfo
    return Field(default_factory=list, validation_alias=AliasChoices(v1, v2))


class Refund(KassaModel):
    """A refund of an acquiring payment; ``is_chargeback`` when the scheme took the money back."""

    id: str
    status: RefundStatus
    created_at: datetime | None = None
    finished_at: datetime | None = None
    amount_details: AmountDetails | None = None
    amounts: Amounts | None = None
    is_chargeback: bool = False
    transaction_info: TransactionInfo | None = None
    revenue_split_info: list[dict[str, Any]] | None = None
    metadata: Any = None


class AcquiringPayment(KassaModel):
    """A payment from a payer (``pm_…``)."""

    id: str
    status: OperationStatus
    created_at: datetime | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None
    customer: Customer | None = None
    payment_details: PaymentDetails | None = None
    amount_details: AmountDetails | None = None
    amounts: Amounts | None = None
    participant_details: ParticipantDetails | None = None
    payment_options: PaymentOptions | None = None
    refunds: list[Refund] = Field(default_factory=list)
    customer_interaction: CustomerInteraction | None = None
    transaction_info: TransactionInfo | None = None
    recurrent: RecurrentToken | None = None
    revenue_split_info: list[dict[str, Any]] | None = None
    metadata: Any = None
    error: OperationError | None = None


class Payout(KassaModel):
    """A payout to a recipient (``po_…``); the protocol calls it a "payment" in ``payments``."""

    id: str
    status: OperationStatus
    created_at: datetime | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None
    customer: Customer | None = None
    payment_method: PaymentMethod | None = _either("payment_method", "payout_details")
    amount_details: AmountDetails | None = None
    amounts: Amounts | None = None
    participant_details: ParticipantDetails | None = None
    customer_interaction: CustomerInteraction | None = None
    transaction_info: TransactionInfo | None = None
    refunds: list[Refund] = Field(default_factory=list)
    metadata: Any = None
    error: OperationError | None = None


class PaymentSession(KassaModel):
    """A payment session (``ps_…``) with its operations, and the data given at create."""

    id: str
    status: SessionStatus
    created_at: datetime | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None
    next_action: NextAction | None = None
    acquiring_payments: list[AcquiringPayment] = _either_list("acquiring_payments", "payment_list")
    payments: list[Payout] = _either_list("payments", "payout_list")
    error: OperationError | None = None
    amount_details: AmountDetails | None = None
    payment_details: PaymentDetails | None = None
    payment_method: PaymentMethod | None = _either("payment_method", "payout_details")
    customer: Customer | None = None
    participant_details: ParticipantDetails | None = None
    payment_options: PaymentOptions | None = None
    metadata: Any = None

    @property
    def payouts(self) -> list[Payout]:
        """The payouts (the protocol's ``payments`` / ``payout_list``): a readable alias."""
        return self.payments


class PaymentRequest(KassaModel):
    """One payment of ``session/multi/init`` (the body of ``session/init/payment``)."""

    payment_details: PaymentDetails
    amount_details: AmountDetails
    customer: Customer
    participant_details: ParticipantDetails | None = None
    payment_options: PaymentOptions | None = None
    metadata: Any = None


class PayoutRequest(KassaModel):
    """One payout of ``session/multi/init`` (the body of ``session/init/payout``)."""

    payment_method: PaymentMethod
    amount_details: AmountDetails
    participant_details: ParticipantDetails | None = None
    customer: Customer | None = None
    metadata: Any = None
