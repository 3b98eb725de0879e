"""Wire models → service commands. The one place the API's shapes meet the use cases'."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kassa.api.schemas.common import (
    AmountDetails,
    CardDetails,
    PayoutCardMethod,
    WireModel,
)
from kassa.api.schemas.session import PASSTHROUGH
from kassa.domain.money import Money
from kassa.service.commands import BankCardInput, DraftInput, InstrumentInput

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


def instrument(model: WireModel | None) -> InstrumentInput | None:
    """A payment instrument or payout destination as a command field."""
    if model is None:
        return None
    if isinstance(model, CardDetails | PayoutCardMethod):
        card = model.card
        if card.bank_card is not None:
            bc = card.bank_card
            return InstrumentInput(
                type="card",
                bank_card=BankCardInput(
                    number=bc.number,
                    expiration_month=bc.expiration_month,
                    expiration_year=bc.expiration_year,
                    security_code=bc.security_code,
                    cardholder_name=bc.cardholder_name,
                ),
            )
        if card.encrypted_card is not None:
            return InstrumentInput(type="card", number_hash=card.encrypted_card.number_hash)
    data = _dump(model) or {}
    kind = str(data.pop("type"))
    recurrent = data.get("recurrent")
    if isinstance(recurrent, dict):  # a CVC is never stored, not even a recurrent one
        recurrent.pop("security_code", None)
    return InstrumentInput(type=kind, data=data)


def draft(model: _SessionData, payout: WireModel | None) -> DraftInput:
    """Operation data of a create/init/start request."""
    extra: dict[str, Any] = {
        name: getattr(model, name) for name in PASSTHROUGH if getattr(model, name) is not None
    }
    return DraftInput(
        amount=money(model.amount_details),
        payment_details=instrument(model.payment_details),
        payout_details=instrument(payout),
        customer=_dump(model.customer),
        participant_details=_dump(model.participant_details),
        payment_options=_dump(model.payment_options),
        metadata=model.metadata,
        has_metadata="metadata" in model.model_fields_set,
        extra=extra,
    )
