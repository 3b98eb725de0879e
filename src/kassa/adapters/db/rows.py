"""Row ↔ domain mapping shared by both stores: times as epoch µs, aggregates as JSON docs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

from kassa.adapters.db.instrument_rows import (
    destination_from_json,
    instrument_to_json,
    payment_instrument_from_json,
)
from kassa.domain.money import Money
from kassa.domain.operation import CallKind, PendingCall
from kassa.domain.project import Project, ProjectSettings
from kassa.domain.session import SessionDraft

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kassa.domain.json import JSONObject

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(moment: datetime) -> int:
    """Aware datetime → integer microseconds since the epoch."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(value: int) -> datetime:
    """Integer microseconds since the epoch → aware UTC datetime."""
    return _EPOCH + timedelta(microseconds=value)


def opt_to_us(moment: datetime | None) -> int | None:
    """``to_us`` that keeps None."""
    return None if moment is None else to_us(moment)


def opt_from_us(value: int | None) -> datetime | None:
    """Like ``from_us`` for nullable columns."""
    return None if value is None else from_us(value)


def dumps(value: object) -> str:
    """Compact JSON text for a ``doc`` column."""
    return orjson.dumps(value).decode("utf-8")


def call_to_json(call: PendingCall | None) -> JSONObject | None:
    """A pending processor call as stored in its operation."""
    if call is None:
        return None
    return {
        "kind": call.kind.value,
        "key": call.key,
        "amount": call.amount,
        "recover_at": to_us(call.recover_at),
    }


def call_from_json(data: dict[str, Any] | None) -> PendingCall | None:
    """Inverse of ``call_to_json``."""
    if data is None:
        return None
    return PendingCall(
        CallKind(data["kind"]), data["key"], int(data["amount"]), from_us(data["recover_at"])
    )


def money_to_json(value: Money | None) -> JSONObject | None:
    """``[minor, currency]`` as an object."""
    return None if value is None else {"amount": value.minor, "currency": value.currency}


def money_from_json(data: dict[str, Any] | None) -> Money | None:
    """Inverse of ``money_to_json``."""
    return None if data is None else Money(int(data["amount"]), str(data["currency"]))


def draft_to_json(draft: SessionDraft) -> JSONObject:
    """The operation data given at create."""
    return {
        "amount": money_to_json(draft.amount),
        "payment_details": instrument_to_json(draft.payment_details),
        "payout_details": instrument_to_json(draft.payout_details),
        "customer": draft.customer,
        "participant_details": draft.participant_details,
        "payment_options": draft.payment_options,
        "metadata": draft.metadata,
        "has_metadata": draft.has_metadata,
        "extra": draft.extra,
    }


def draft_from_json(data: dict[str, Any]) -> SessionDraft:
    """Inverse of ``draft_to_json``."""
    return SessionDraft(
        amount=money_from_json(data.get("amount")),
        payment_details=payment_instrument_from_json(data.get("payment_details")),
        payout_details=destination_from_json(data.get("payout_details")),
        customer=data.get("customer"),
        participant_details=data.get("participant_details"),
        payment_options=data.get("payment_options"),
        metadata=data.get("metadata"),
        has_metadata=bool(data.get("has_metadata")),
        extra=data.get("extra") or {},
    )


def settings_to_json(settings: ProjectSettings) -> str:
    """Project settings as stored."""
    return dumps(
        {
            "auto_confirm": settings.auto_confirm,
            "two_step_capture": settings.two_step_capture,
            "partial_refunds": settings.partial_refunds,
        },
    )


def origins_to_column(origins: tuple[str, ...]) -> str | None:
    """``projects.widget_origins``: a JSON list, NULL for the default."""
    return dumps(list(origins)) if origins else None


def origins_from_column(value: str | None) -> tuple[str, ...]:
    """Inverse of ``origins_to_column``."""
    return tuple(orjson.loads(value)) if value else ()


def project_from_row(row: Sequence[Any], keys: tuple[str, ...]) -> Project:
    """A project from ``id, name, webhook_url, settings, created_at, widget_origins`` + keys."""
    settings = orjson.loads(row[3])
    return Project(
        id=row[0],
        name=row[1],
        webhook_url=row[2],
        settings=ProjectSettings(**settings),
        created_at=from_us(row[4]),
        public_keys=keys,
        widget_origins=origins_from_column(row[5]),
    )
