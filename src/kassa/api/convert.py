"""Wire models → service commands. The one place the API's shapes meet the use cases'."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kassa.api.schemas.common import (
    AmountDetails,
    Card,
    CardDetails,
    PayoutCard,
    PayoutCardMethod,
    RecurrentDetails,
    WireModel,
)
from kassa.api.schemas.destinations import BankAccountMethod, WalletMethod
from kassa.api.schemas.session import PASSTHROUGH
from kassa.domain.errors import InvalidRequest
from kassa.domain.money import Money
from kassa.domain.recurrent import Initiator
from kassa.service.commands import (
    BankCardInput,
    CardInput,
    DestinationInput,
    DraftInput,
    FpsAccountInput,
    FpsCheckInput,
    GlobalAccountInput,
    MethodInput,
    PaymentInput,
    RecurrentInput,
    WalletInput,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from kassa.api.schemas.session import _SessionData
    from kassa.domain.json import JSONObject


def _dump(model: BaseModel | None) -> JSONObject | None:
    if model is None:
        return None
    data: JSONObject = model.model_dump(mode="json", exclude_none=True)
    return data


def money(model: AmountDetails | None) -> Money | None:
    """``amount_details`` as money, if given."""
    return None if model is None else Money(model.amount, model.currency)


def _card(card: Card | PayoutCard) -> CardInput:
    if card.bank_card is not None:
        bc = card.bank_card
        return CardInput(
            bank_card=BankCardInput(
                number=bc.number,
                expiration_month=bc.expiration_month,
                expiration_year=bc.expiration_year,
                security_code=bc.security_code,
                cardholder_name=bc.cardholder_name,
            ),
        )
    if card.encrypted_card is not None:
        return CardInput(number_hash=card.encrypted_card.number_hash)
    msg = f"{card.type}: not processed by this kassa"  # tokenized_card
    raise InvalidRequest(f"payment_details.card.{msg}")


def _method(model: WireModel) -> MethodInput:
    data = _dump(model) or {}
    return MethodInput(type=str(data.pop("type")), data=data)


def payment_instrument(model: WireModel | None) -> PaymentInput | None:
    """A payment's ``payment_details`` as a typed command field (built once, here)."""
    if model is None:
        return None
    if isinstance(model, CardDetails):
        if model.card.tokenized_card is not None:
            return _method(model)  # stored and echoed; the sandbox does not process it
        return _card(model.card)
    if isinstance(model, RecurrentDetails):  # a CVC is never stored, not even a recurrent one
        return RecurrentInput(model.recurrent.token, Initiator(model.recurrent.initiator))
    return _method(model)


def payout_destination(model: WireModel | None) -> DestinationInput | None:  # noqa: PLR0911
    """A payout's ``payment_method`` / ``payout_details`` as a typed command field."""
    if model is None:
        return None
    if isinstance(model, PayoutCardMethod):
        return _card(model.card)
    if isinstance(model, BankAccountMethod):
        account = model.bank_account
        if account.global_ is not None and account.system_type == "global":
            return GlobalAccountInput(**account.global_.model_dump())
        if account.faster_payment_system is not None and account.system_type == (
            "faster_payment_system"
        ):
            return FpsAccountInput(**account.faster_payment_system.model_dump())
        if account.faster_payment_system_verification is not None:
            return FpsCheckInput(**account.faster_payment_system_verification.model_dump())
    if isinstance(model, WalletMethod) and model.wallet.global_ is not None:
        return WalletInput(**model.wallet.global_.model_dump())
    return _method(model)


def draft(model: _SessionData, payout: WireModel | None) -> DraftInput:
    """Operation data of a create/init/start request."""
    extra: dict[str, Any] = {
        name: getattr(model, name) for name in PASSTHROUGH if getattr(model, name) is not None
    }
    return DraftInput(
        amount=money(model.amount_details),
        payment_details=payment_instrument(model.payment_details),
        payout_details=payout_destination(payout),
        customer=_dump(model.customer),
        participant_details=_dump(model.participant_details),
        payment_options=_dump(model.payment_options),
        metadata=model.metadata,
        has_metadata="metadata" in model.model_fields_set,
        extra=extra,
    )
