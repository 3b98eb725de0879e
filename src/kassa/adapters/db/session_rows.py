"""Sessions ↔ rows: the columns, and the ``doc`` with the draft and the acquiring payments.

Refunds live inside their payment; recurrent tokens have rows of their own (also here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import orjson

from kassa.adapters.db.instrument_rows import instrument_to_json, payment_instrument_from_json
from kassa.adapters.db.payout_rows import payout_from_json, payout_to_json
from kassa.adapters.db.rows import (
    call_from_json,
    call_to_json,
    draft_from_json,
    draft_to_json,
    dumps,
    from_us,
    money_from_json,
    money_to_json,
    opt_from_us,
    opt_to_us,
    to_us,
)
from kassa.domain.operation import Awaiting
from kassa.domain.payment import (
    AcquiringPayment,
    PaymentError,
    PaymentStatus,
    RecurrentInfo,
)
from kassa.domain.recurrent import RecurrentToken
from kassa.domain.refund import Refund, RefundStatus, TransactionInfo
from kassa.domain.session import ApiVersion, PaymentSession, ReplyTo, SessionStatus
from kassa.domain.split import SplitRule

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kassa.domain.json import JSONObject


def refund_to_json(refund: Refund) -> JSONObject:
    """A refund as stored in its payment."""
    return {
        "id": refund.id,
        "status": refund.status.value,
        "amount": money_to_json(refund.amount),
        "created_at": to_us(refund.created_at),
        "finished_at": opt_to_us(refund.finished_at),
        "is_chargeback": refund.is_chargeback,
        "metadata": refund.metadata,
        "has_metadata": refund.has_metadata,
        "transaction_info": _tx_to_json(refund.transaction_info),
        "call": call_to_json(refund.call),
    }


def refund_from_json(data: dict[str, Any]) -> Refund:
    """Inverse of ``refund_to_json``."""
    amount = money_from_json(data["amount"])
    assert amount is not None  # noqa: S101 - stored refunds always have an amount
    return Refund(
        id=data["id"],
        status=RefundStatus(data["status"]),
        amount=amount,
        created_at=from_us(data["created_at"]),
        finished_at=opt_from_us(data.get("finished_at")),
        is_chargeback=bool(data.get("is_chargeback")),
        metadata=data.get("metadata"),
        has_metadata=bool(data.get("has_metadata")),
        transaction_info=_tx_from_json(data.get("transaction_info")),
        call=call_from_json(data.get("call")),
    )


def _error_to_json(error: PaymentError | None) -> JSONObject | None:
    return None if error is None else {"code": error.code, "description": error.description}


def _error_from_json(data: dict[str, Any] | None) -> PaymentError | None:
    return None if data is None else PaymentError(data["code"], data["description"])


def _tx_to_json(tx: TransactionInfo | None) -> JSONObject | None:
    return None if tx is None else {"rrn": tx.rrn, "auth_code": tx.auth_code}


def _tx_from_json(data: dict[str, Any] | None) -> TransactionInfo | None:
    return None if data is None else TransactionInfo(data["rrn"], data["auth_code"])


def _split_to_json(rule: SplitRule) -> JSONObject:
    return {
        "recipient": rule.recipient,
        "amount": rule.amount,
        "percent": rule.percent,
        "remains": rule.remains,
    }


def _split_from_json(data: dict[str, Any]) -> SplitRule:
    return SplitRule(
        recipient=data["recipient"],
        amount=data.get("amount"),
        percent=data.get("percent"),
        remains=bool(data.get("remains")),
    )


def payment_to_json(payment: AcquiringPayment) -> JSONObject:
    """An acquiring payment as stored inside its session's ``doc``."""
    tx = payment.transaction_info
    error = payment.error
    recurrent = payment.recurrent
    return {
        "id": payment.id,
        "status": payment.status.value,
        "created_at": to_us(payment.created_at),
        "updated_at": to_us(payment.updated_at),
        "finished_at": opt_to_us(payment.finished_at),
        "amount": money_to_json(payment.amount),
        "instrument": instrument_to_json(payment.instrument),
        "customer": payment.customer,
        "participant_details": payment.participant_details,
        "payment_options": payment.payment_options,
        "metadata": payment.metadata,
        "has_metadata": payment.has_metadata,
        "awaiting": None if payment.awaiting is None else payment.awaiting.value,
        "deadline_at": opt_to_us(payment.deadline_at),
        "three_ds_token": payment.three_ds_token,
        "three_ds_passed": payment.three_ds_passed,
        "customer_interaction": payment.customer_interaction,
        "transaction_info": _tx_to_json(tx),
        "error": _error_to_json(error),
        "closing": _error_to_json(payment.closing),
        "call": call_to_json(payment.call),
        "authorizations": payment.authorizations,
        "held": payment.held,
        "captured": payment.captured,
        "refunds": [refund_to_json(r) for r in payment.refunds],
        "recurrent": None
        if recurrent is None
        else {
            "token": recurrent.token,
            "created_at": to_us(recurrent.created_at),
            "disabled_at": opt_to_us(recurrent.disabled_at),
        },
        "splits": [_split_to_json(s) for s in payment.splits],
    }


def payment_from_json(data: dict[str, Any]) -> AcquiringPayment:
    """Inverse of ``payment_to_json``."""
    amount = money_from_json(data["amount"])
    instrument = payment_instrument_from_json(data["instrument"])
    assert amount is not None  # noqa: S101 - stored payments always have these
    assert instrument is not None  # noqa: S101
    tx, error, recurrent = data.get("transaction_info"), data.get("error"), data.get("recurrent")
    awaiting = data.get("awaiting")
    return AcquiringPayment(
        id=data["id"],
        status=PaymentStatus(data["status"]),
        created_at=from_us(data["created_at"]),
        updated_at=from_us(data["updated_at"]),
        finished_at=opt_from_us(data.get("finished_at")),
        amount=amount,
        instrument=instrument,
        customer=data.get("customer"),
        participant_details=data.get("participant_details"),
        payment_options=data.get("payment_options"),
        metadata=data.get("metadata"),
        has_metadata=bool(data.get("has_metadata")),
        awaiting=None if awaiting is None else Awaiting(awaiting),
        deadline_at=opt_from_us(data.get("deadline_at")),
        three_ds_token=data.get("three_ds_token"),
        three_ds_passed=bool(data.get("three_ds_passed")),
        customer_interaction=data.get("customer_interaction"),
        transaction_info=_tx_from_json(tx),
        error=_error_from_json(error),
        closing=_error_from_json(data.get("closing")),
        call=call_from_json(data.get("call")),
        authorizations=int(data.get("authorizations", 1)),
        held=int(data.get("held", 0)),
        captured=int(data.get("captured", 0)),
        refunds=tuple(refund_from_json(r) for r in data.get("refunds", [])),
        recurrent=None
        if recurrent is None
        else RecurrentInfo(
            recurrent["token"],
            from_us(recurrent["created_at"]),
            opt_from_us(recurrent.get("disabled_at")),
        ),
        splits=tuple(_split_from_json(s) for s in data.get("splits", [])),
    )


def session_doc(session: PaymentSession) -> str:
    """Everything of a session that has no column of its own."""
    doc: JSONObject = {
        "draft": draft_to_json(session.draft),
        "finished_at": opt_to_us(session.finished_at),
        "next_action": session.next_action,
    }
    if session.replies:
        doc["replies"] = [
            {"key": r.key, "owner": r.owner, "api_version": r.api_version.value}
            for r in session.replies
        ]
    if session.payments:
        doc["payments"] = [payment_to_json(p) for p in session.payments]
    if session.payouts:
        doc["payouts"] = [payout_to_json(p) for p in session.payouts]
    return dumps(doc)


def session_params(session: PaymentSession) -> tuple[Any, ...]:
    """Column values in ``SESSION_COLUMNS`` order, with the version to be written."""
    return (
        session.id,
        session.project_id,
        session.status.value,
        session.api_version.value,
        session.version,
        to_us(session.created_at),
        to_us(session.updated_at),
        opt_to_us(session.deadline_at),
        session_doc(session),
        None if session.payment is None else session.payment.id,
    )


SESSION_COLUMNS = (
    "id, project_id, status, api_version, version, created_at, updated_at, deadline_at, doc, "
    "payment_id"
)
SESSION_MARKS = ", ".join("?" * len(SESSION_COLUMNS.split(",")))  # one per column


def session_from_row(row: Sequence[Any]) -> PaymentSession:
    """A session from a row selected as ``SESSION_COLUMNS``."""
    doc = cast("dict[str, Any]", orjson.loads(row[8]))
    return PaymentSession(
        id=row[0],
        project_id=row[1],
        status=SessionStatus(row[2]),
        api_version=ApiVersion(row[3]),
        version=row[4],
        created_at=from_us(row[5]),
        updated_at=from_us(row[6]),
        draft=draft_from_json(doc["draft"]),
        finished_at=opt_from_us(doc.get("finished_at")),
        next_action=doc.get("next_action"),
        deadline_at=opt_from_us(row[7]),
        payments=tuple(payment_from_json(p) for p in doc.get("payments", [])),
        payouts=tuple(payout_from_json(p) for p in doc.get("payouts", [])),
        replies=tuple(
            ReplyTo(r["key"], r["owner"], ApiVersion(r["api_version"]))
            for r in doc.get("replies", [])
        ),
    )


RECURRENT_COLUMNS = (
    "token, project_id, session_id, payment_id, number_hash, created_at, disabled_at"
)


def recurrent_params(token: RecurrentToken) -> tuple[Any, ...]:
    """Column values in ``RECURRENT_COLUMNS`` order."""
    return (
        token.token,
        token.project_id,
        token.session_id,
        token.payment_id,
        token.number_hash,
        to_us(token.created_at),
        opt_to_us(token.disabled_at),
    )


def recurrent_from_row(row: Sequence[Any]) -> RecurrentToken:
    """A recurrent token from a row selected as ``RECURRENT_COLUMNS``."""
    return RecurrentToken(
        token=row[0],
        project_id=row[1],
        session_id=row[2],
        payment_id=row[3],
        number_hash=row[4],
        created_at=from_us(row[5]),
        disabled_at=opt_from_us(row[6]),
    )
