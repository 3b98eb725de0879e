"""Domain → wire JSON, in v1 or v2 field names. Used by API responses and webhook bodies.

Absent fields are omitted, never sent as null (real clients break on a null object).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson

from kassa.domain.session import ApiVersion, Instrument, PaymentSession

if TYPE_CHECKING:
    from kassa.domain.json import JSONObject
    from kassa.domain.money import Money


def timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with microseconds and ``Z``: ``2024-05-27T02:03:00.000000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def amount_details(money: Money) -> JSONObject:
    """``{"amount": minor, "currency": "usd"}``."""
    return {"amount": money.minor, "currency": money.currency}


def instrument(value: Instrument) -> JSONObject:
    """A payment instrument as shown on the wire: cards masked to brand, last4, bin."""
    if value.card is not None:
        card: JSONObject = {
            "brand": value.card.brand,
            "last4": value.card.last4,
            "bin": value.card.bin,
        }
        return {"type": value.type, "card": card}
    return {"type": value.type, **value.data}


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
    return out


def session_reply(session: PaymentSession, version: ApiVersion) -> bytes:
    """The ``{"status":"ok","session":…}`` body, serialized once."""
    return orjson.dumps({"status": "ok", "session": session_object(session, version)})


def webhook_body(event_type: str, session: PaymentSession) -> bytes:
    """``{"type": …, "session": …}`` in the field names the session was created with."""
    return orjson.dumps(
        {"type": event_type, "session": session_object(session, session.api_version)},
    )


def now_utc() -> datetime:
    """The current aware UTC time (for adapters that need a default clock)."""
    return datetime.now(UTC)
