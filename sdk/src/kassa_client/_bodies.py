"""Request bodies: fields in the API version's names, absent ones left out, and keys.

The pieces every method builder (``_sessions.py``, ``_accounts.py``) uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kassa_client._call import ApiVersion, Call, new_idempotency_key
from kassa_client.models import PaymentSession
from kassa_client.models._base import KassaModel

if TYPE_CHECKING:
    from collections.abc import Mapping

V1 = ApiVersion.V1


def payout_key(version: ApiVersion) -> str:
    return "payout_details" if version is ApiVersion.V2 else "payment_method"


def wire(value: Any) -> Any:  # noqa: ANN401 - a model or any JSON value
    return value.to_wire() if isinstance(value, KassaModel) else value


def fields_of(
    version: ApiVersion,
    extra: Mapping[str, Any] | None = None,
    **fields: Any,  # noqa: ANN401 - models or JSON values
) -> dict[str, Any]:
    """The fields that are not None, in ``version``'s names (``payment_method`` → v2's name)."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if value is not None:
            out[payout_key(version) if name == "payment_method" else name] = wire(value)
    for name, value in (extra or {}).items():
        out[name] = wire(value)
    return out


def session(data: dict[str, Any]) -> PaymentSession:
    return PaymentSession.model_validate(data["session"])


def key(key: str | None) -> str:
    return key if key is not None else new_idempotency_key()


def session_call(
    version: ApiVersion,
    path: str,
    body: dict[str, Any],
    idempotency_key: str | None,
    *,
    mutating: bool = True,
) -> Call[PaymentSession]:
    session_id = body.get("session_id")
    return Call(
        path=path,
        body=body,
        parse=session,
        version=version,
        mutating=mutating,
        idempotency_key=key(idempotency_key) if mutating else None,
        session_id=session_id if isinstance(session_id, str) else None,
    )
