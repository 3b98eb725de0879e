"""Domain → wire JSON, in v1 or v2 field names. Used by API responses and webhook bodies.

Absent fields are omitted, never sent as null (real clients break on a null object).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from kassa.domain.session import ApiVersion, PaymentSession
from kassa.service.wire_parts import (
    amount_details,
    amounts,
    customer_object,
    instrument,
    timestamp,
    transaction_info,
)
from kassa.service.wire_payouts import destination_key, payout_object

if TYPE_CHECKING:
    from kassa.domain.json import JSON, JSONObject
    from kassa.domain.payment import AcquiringPayment
    from kassa.domain.recurrent import RecurrentToken
    from kassa.domain.refund import Refund
    from kassa.domain.split import SplitRule

__all__ = [
    "amount_details",
    "instrument",
    "ok_reply",
    "payment_object",
    "recurrent_object",
    "refund_object",
    "session_object",
    "session_reply",
    "timestamp",
    "webhook_body",
]


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
    out["amounts"] = amounts(refund.amount)
    out["is_chargeback"] = refund.is_chargeback
    if refund.transaction_info is not None:
        out["transaction_info"] = transaction_info(refund.transaction_info)
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
        ("customer", None if payment.customer is None else customer_object(payment.customer)),
        ("payment_details", instrument(payment.instrument)),
        ("amount_details", amount_details(payment.amount)),
        ("amounts", amounts(payment.amount)),
        ("participant_details", payment.participant_details),
        ("payment_options", payment.payment_options),
        ("customer_interaction", payment.customer_interaction),
    ]
    out.update({k: v for k, v in optional if v is not None})
    out["refunds"] = [refund_object(r) for r in payment.refunds]
    if payment.transaction_info is not None:
        out["transaction_info"] = transaction_info(payment.transaction_info)
    if payment.recurrent is not None:
        recurrent: JSONObject = {
            "token": payment.recurrent.token,
            "created_at": timestamp(payment.recurrent.created_at),
        }
        if payment.recurrent.disabled_at is not None:
            recurrent["finished_at"] = timestamp(payment.recurrent.disabled_at)
        recurrent["is_active"] = payment.recurrent.disabled_at is None
        recurrent["type"] = "recurrent_token"
        out["recurrent"] = recurrent
    if payment.splits:
        out["revenue_split_info"] = [_split(r) for r in payment.splits]
    if payment.has_metadata:
        out["metadata"] = payment.metadata
    if payment.error is not None:
        out["error"] = {"code": payment.error.code, "description": payment.error.description}
    return out


def _draft_fields(session: PaymentSession, version: ApiVersion) -> JSONObject:
    """The operation data given at create, as the session echoes it."""
    out: JSONObject = {}
    draft = session.draft
    if draft.amount is not None:
        out["amount_details"] = amount_details(draft.amount)
    if draft.payment_details is not None:
        out["payment_details"] = instrument(draft.payment_details)
    if draft.payout_details is not None:
        out[destination_key(version)] = instrument(draft.payout_details)
    for name, value in (
        ("customer", None if draft.customer is None else customer_object(draft.customer)),
        ("participant_details", draft.participant_details),
        ("payment_options", draft.payment_options),
    ):
        if value is not None:
            out[name] = value
    out.update(draft.extra)
    if draft.has_metadata:
        out["metadata"] = draft.metadata
    return out


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
    out.update(_draft_fields(session, version))
    if session.payments:
        key = "payment_list" if version is ApiVersion.V2 else "acquiring_payments"
        out[key] = [payment_object(p) for p in session.payments]
    if session.payouts:
        key = "payout_list" if version is ApiVersion.V2 else "payments"
        out[key] = [payout_object(p, version) for p in session.payouts]
    return out


def recurrent_object(token: RecurrentToken) -> JSONObject:
    """RecurrentToken (§4.13): ``finished_at`` only once disabled."""
    out: JSONObject = {"token": token.token, "created_at": timestamp(token.created_at)}
    if token.disabled_at is not None:
        out["finished_at"] = timestamp(token.disabled_at)
    out["is_active"] = token.is_active
    out["type"] = "recurrent_token"
    return out


def ok_reply(name: str, value: JSON) -> bytes:
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
