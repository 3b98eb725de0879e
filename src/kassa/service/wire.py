"""Domain → wire JSON, in v1 or v2 field names. Used by API responses and webhook bodies.

Absent fields are omitted, never sent as null (real clients break on a null object).
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING

import orjson

from kassa.domain.errors import InternalError
from kassa.domain.instrument import (
    BankCard,
    PayoutCard,
    RecurrentCharge,
    UnprocessedDestination,
    UnprocessedMethod,
    VaultedCard,
)
from kassa.domain.session import ApiVersion, PaymentSession

if TYPE_CHECKING:
    from datetime import datetime

    from kassa.domain.instrument import CardRef, PaymentInstrument, PayoutDestination
    from kassa.domain.json import JSON, JSONObject
    from kassa.domain.money import Money
    from kassa.domain.payment import AcquiringPayment
    from kassa.domain.recurrent import RecurrentToken
    from kassa.domain.refund import Refund, TransactionInfo
    from kassa.domain.split import SplitRule


def timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with microseconds and ``Z``: ``2024-05-27T02:03:00.000000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def amount_details(money: Money) -> JSONObject:
    """``{"amount": minor, "currency": "usd"}``."""
    return {"amount": money.minor, "currency": money.currency}


def _masked_card(card: CardRef) -> JSONObject:
    return {"brand": card.brand, "last4": card.last4, "bin": card.bin}


def instrument(value: PaymentInstrument | PayoutDestination) -> JSONObject:
    """An instrument or destination as shown on the wire: cards masked to brand, last4, bin."""
    if isinstance(value, BankCard | VaultedCard | PayoutCard):
        return {"type": "card", "card": _masked_card(value.card)}
    if isinstance(value, RecurrentCharge):
        return {
            "type": "recurrent",
            "recurrent": {"token": value.token, "initiator": value.initiator.value},
        }
    if isinstance(value, UnprocessedMethod | UnprocessedDestination):
        return {"type": value.type, **value.data}
    return destination(value)


def destination(value: PayoutDestination) -> JSONObject:
    """A payout destination other than a card (bank accounts, wallets), masked."""
    msg = f"no wire form for {type(value).__name__}"
    raise InternalError(msg)


def _transaction_info(info: TransactionInfo) -> JSONObject:
    return {"rrn": info.rrn, "auth_code": info.auth_code}


def refund_object(refund: Refund) -> JSONObject:
    """A Refund (§4.4)."""
    out: JSONObject = {
        "id": refund.id,
        "status": refund.status.value,
        "created_at": timestamp(refund.created_at),
    }
    if refund.finished_at is not None:
        out["finished_at"] = timestamp(refund.finished_at)
    out["amount_details"] = amount_details(refund.amount)
    out["is_chargeback"] = refund.is_chargeback
    if refund.transaction_info is not None:
        out["transaction_info"] = _transaction_info(refund.transaction_info)
    if refund.has_metadata:
        out["metadata"] = refund.metadata
    return out


def _split(rule: SplitRule) -> JSONObject:
    out: JSONObject = {"contractor_alias": rule.recipient}
    if rule.amount is not None:
        out["amount"] = rule.amount
    if rule.percent is not None:
        out["percent"] = rule.percent
    if rule.remains:
        out["remains"] = True
    return out


def payment_object(payment: AcquiringPayment) -> JSONObject:
    """An AcquiringPayment (§4.2): card masked, absent fields omitted."""
    out: JSONObject = {
        "id": payment.id,
        "status": payment.status.value,
        "created_at": timestamp(payment.created_at),
        "updated_at": timestamp(payment.updated_at),
    }
    if payment.finished_at is not None:
        out["finished_at"] = timestamp(payment.finished_at)
    optional: list[tuple[str, JSON]] = [
        ("customer", payment.customer),
        ("payment_details", instrument(payment.instrument)),
        ("amount_details", amount_details(payment.amount)),
        ("participant_details", payment.participant_details),
        ("payment_options", payment.payment_options),
        ("customer_interaction", payment.customer_interaction),
    ]
    out.update({k: v for k, v in optional if v is not None})
    if payment.refunds:
        out["refunds"] = [refund_object(r) for r in payment.refunds]
    if payment.transaction_info is not None:
        out["transaction_info"] = _transaction_info(payment.transaction_info)
    if payment.recurrent is not None:
        out["recurrent"] = {
            "token": payment.recurrent.token,
            "created_at": timestamp(payment.recurrent.created_at),
            "type": "recurrent_token",
        }
    if payment.splits:
        out["revenue_split_info"] = [_split(r) for r in payment.splits]
    if payment.has_metadata:
        out["metadata"] = payment.metadata
    if payment.error is not None:
        out["error"] = {"code": payment.error.code, "description": payment.error.description}
    return out


def _payout_key(version: ApiVersion) -> str:
    return "payout_details" if version is ApiVersion.V2 else "payment_method"


def session_object(session: PaymentSession, version: ApiVersion) -> JSONObject:
    """The PaymentSession object of the protocol (§4.1), plus the data given at create."""
    out: JSONObject = {
        "id": session.id,
        "status": session.status.value,
        "created_at": timestamp(session.created_at),
        "updated_at": timestamp(session.updated_at),
    }
    if session.finished_at is not None:
        out["finished_at"] = timestamp(session.finished_at)
    if session.next_action is not None:
        out["next_action"] = session.next_action
    draft = session.draft
    if draft.amount is not None:
        out["amount_details"] = amount_details(draft.amount)
    if draft.payment_details is not None:
        out["payment_details"] = instrument(draft.payment_details)
    if draft.payout_details is not None:
        out[_payout_key(version)] = instrument(draft.payout_details)
    for name, value in (
        ("customer", draft.customer),
        ("participant_details", draft.participant_details),
        ("payment_options", draft.payment_options),
    ):
        if value is not None:
            out[name] = value
    out.update(draft.extra)
    if draft.has_metadata:
        out["metadata"] = draft.metadata
    if session.payments:
        key = "payment_list" if version is ApiVersion.V2 else "acquiring_payments"
        out[key] = [payment_object(p) for p in session.payments]
    return out


def recurrent_object(token: RecurrentToken) -> JSONObject:
    """RecurrentToken (§4.13): ``finished_at`` only once disabled."""
    out: JSONObject = {"token": token.token, "created_at": timestamp(token.created_at)}
    if token.disabled_at is not None:
        out["finished_at"] = timestamp(token.disabled_at)
    out["is_active"] = token.is_active
    out["type"] = "recurrent_token"
    return out


def ok_reply(name: str, value: JSONObject) -> bytes:
    """``{"status": "ok", <name>: value}`` (session, recurrent, info), serialized once."""
    return orjson.dumps({"status": "ok", name: value})


def session_reply(session: PaymentSession, version: ApiVersion) -> bytes:
    """The ``{"status":"ok","session":…}`` body, serialized once."""
    return ok_reply("session", session_object(session, version))


def webhook_body(event_type: str, session: PaymentSession) -> bytes:
    """``{"type": …, "session": …}`` in the field names the session was created with."""
    return orjson.dumps(
        {"type": event_type, "session": session_object(session, session.api_version)},
    )
