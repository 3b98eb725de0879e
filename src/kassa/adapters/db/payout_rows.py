"""Payouts ↔ JSON, as stored inside their session's ``doc``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kassa.adapters.db.instrument_rows import destination_from_json, instrument_to_json
from kassa.adapters.db.rows import (
    call_from_json,
    call_to_json,
    from_us,
    money_from_json,
    money_to_json,
    opt_from_us,
    opt_to_us,
)
from kassa.domain.operation import Awaiting
from kassa.domain.payment import PaymentError
from kassa.domain.payout import Payout, PayoutStatus
from kassa.domain.refund import TransactionInfo

if TYPE_CHECKING:
    from kassa.domain.json import JSONObject


def _error(data: dict[str, Any] | None) -> PaymentError | None:
    return None if data is None else PaymentError(data["code"], data["description"])


def payout_to_json(payout: Payout) -> JSONObject:
    """A payout as stored."""
    info, error = payout.transaction_info, payout.error
    return {
        "id": payout.id,
        "status": payout.status.value,
        "created_at": opt_to_us(payout.created_at),
        "updated_at": opt_to_us(payout.updated_at),
        "finished_at": opt_to_us(payout.finished_at),
        "amount": money_to_json(payout.amount),
        "destination": instrument_to_json(payout.destination),
        "customer": payout.customer,
        "participant_details": payout.participant_details,
        "metadata": payout.metadata,
        "has_metadata": payout.has_metadata,
        "awaiting": None if payout.awaiting is None else payout.awaiting.value,
        "deadline_at": opt_to_us(payout.deadline_at),
        "call": call_to_json(payout.call),
        "error": None if error is None else {"code": error.code, "description": error.description},
        "transaction_info": None
        if info is None
        else {"rrn": info.rrn, "auth_code": info.auth_code},
        "reserved": payout.reserved,
        "paid": payout.paid,
    }


def payout_from_json(data: dict[str, Any]) -> Payout:
    """Inverse of ``payout_to_json``."""
    amount = money_from_json(data["amount"])
    destination = destination_from_json(data["destination"])
    if amount is None or destination is None:
        msg = f"stored payout {data.get('id')} lacks its amount or destination"
        raise TypeError(msg)
    info, awaiting = data.get("transaction_info"), data.get("awaiting")
    return Payout(
        id=data["id"],
        status=PayoutStatus(data["status"]),
        created_at=from_us(data["created_at"]),
        updated_at=from_us(data["updated_at"]),
        finished_at=opt_from_us(data.get("finished_at")),
        amount=amount,
        destination=destination,
        customer=data.get("customer"),
        participant_details=data.get("participant_details"),
        metadata=data.get("metadata"),
        has_metadata=bool(data.get("has_metadata")),
        awaiting=None if awaiting is None else Awaiting(awaiting),
        deadline_at=opt_from_us(data.get("deadline_at")),
        call=call_from_json(data.get("call")),
        error=_error(data.get("error")),
        transaction_info=None if info is None else TransactionInfo(info["rrn"], info["auth_code"]),
        reserved=int(data.get("reserved", 0)),
        paid=int(data.get("paid", 0)),
    )
