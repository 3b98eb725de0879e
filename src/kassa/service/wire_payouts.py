"""Payouts on the wire (§4.3): ``payments`` (v1) / ``payout_list`` (v2) of a session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.domain.session import ApiVersion
from kassa.service.wire_parts import (
    amount_details,
    amounts,
    customer_object,
    instrument,
    timestamp,
    transaction_info,
)

if TYPE_CHECKING:
    from kassa.domain.json import JSONObject
    from kassa.domain.payout import Payout


def destination_key(version: ApiVersion) -> str:
    """The wire name of a payout destination in this API version."""
    return "payout_details" if version is ApiVersion.V2 else "payment_method"


def payout_object(payout: Payout, version: ApiVersion) -> JSONObject:
    """A payout: destination masked, ``refunds: []`` and ``amounts`` as clients read them."""
    out: JSONObject = {
        "id": payout.id,
        "status": payout.status.value,
        "created_at": timestamp(payout.created_at),
        "updated_at": timestamp(payout.updated_at),
    }
    if payout.finished_at is not None:
        out["finished_at"] = timestamp(payout.finished_at)
    if payout.customer is not None:
        out["customer"] = customer_object(payout.customer)
    out[destination_key(version)] = instrument(payout.destination)
    out["amount_details"] = amount_details(payout.amount)
    out["amounts"] = amounts(payout.amount)
    if payout.participant_details is not None:
        out["participant_details"] = payout.participant_details
    if payout.transaction_info is not None:
        out["transaction_info"] = transaction_info(payout.transaction_info)
    out["refunds"] = []  # payouts are not refundable; clients still iterate the list
    if payout.has_metadata:
        out["metadata"] = payout.metadata
    if payout.error is not None:
        out["error"] = {"code": payout.error.code, "description": payout.error.description}
    return out
