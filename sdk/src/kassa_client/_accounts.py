"""The account methods of API v1: wallet, widget tokens, token info, recurrent tokens, FPS banks.

They always go to ``/api/v1``, whatever the client's version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kassa_client._bodies import V1, fields_of, key
from kassa_client._call import Call
from kassa_client.models import FpsBank, RecurrentToken, TokenInfo, Wallet

if TYPE_CHECKING:
    from kassa_client._call import ApiVersion
    from kassa_client.models import AcquiringWidget, FpsNoAccountWidget, TokenizeWidget


def _recurrent(data: dict[str, Any]) -> RecurrentToken:
    return RecurrentToken.model_validate(data["recurrent"])


def wallet_balance(
    version: ApiVersion,  # noqa: ARG001 - v1 only
    *,
    request_datetime: datetime | None = None,
) -> Call[list[Wallet]]:
    """``wallet/balance`` (API v1): the prefunding balances for payouts."""
    moment = request_datetime or datetime.now(UTC)
    return Call(
        path="wallet/balance",
        body={"request_datetime": moment.isoformat(timespec="seconds")},
        parse=lambda data: [Wallet.model_validate(w) for w in data["wallets"]],
        version=V1,
        mutating=False,
    )


def create_token(
    version: ApiVersion,  # noqa: ARG001 - v1 only
    *,
    tokenize_widget: TokenizeWidget | None = None,
    acquiring_widget: AcquiringWidget | None = None,
    fps_no_account_widget: FpsNoAccountWidget | None = None,
    idempotency_key: str | None = None,
) -> Call[str]:
    """``token`` (API v1): a public token (24 h, one operation) for a widget; at least one."""
    body = fields_of(
        V1,
        tokenize_widget=tokenize_widget,
        acquiring_widget=acquiring_widget,
        fps_no_account_widget=fps_no_account_widget,
    )
    if not body:
        msg = "create_token: give at least one widget"
        raise ValueError(msg)
    return Call(
        path="token",
        body=body,
        parse=lambda data: str(data["public_token"]),
        version=V1,
        idempotency_key=key(idempotency_key),
    )


def token_info(
    version: ApiVersion,  # noqa: ARG001 - v1 only
    *,
    number_hash: str | None = None,
    public_token: str | None = None,
    recurrent_token: str | None = None,
) -> Call[TokenInfo]:
    """``token/info`` (API v1): what one of a card ``number_hash``, public or recurrent token is."""
    given = {
        "card": number_hash,
        "public_token": public_token,
        "recurrent_token": recurrent_token,
    }
    chosen = [(kind, value) for kind, value in given.items() if value is not None]
    if len(chosen) != 1:
        msg = "token_info: give exactly one of number_hash, public_token, recurrent_token"
        raise ValueError(msg)
    kind, value = chosen[0]
    inner: dict[str, Any] = (
        {"type": "encrypted_card", "encrypted_card": {"number_hash": value}}
        if kind == "card"
        else {"token": value}
    )
    return Call(
        path="token/info",
        body={"type": kind, kind: inner},
        parse=lambda data: TokenInfo.model_validate(data["info"]),
        version=V1,
        mutating=False,
    )


def recurrent_status(version: ApiVersion, token: str) -> Call[RecurrentToken]:  # noqa: ARG001 - v1 only
    """``recurrent/status`` (API v1): whether a recurrent token is active (only reads)."""
    return Call("recurrent/status", {"recurrent": {"token": token}}, _recurrent, V1, mutating=False)


def disable_recurrent(
    version: ApiVersion,  # noqa: ARG001 - v1 only
    token: str,
    *,
    idempotency_key: str | None = None,
) -> Call[RecurrentToken]:
    """``recurrent/disable`` (API v1): deactivate a recurrent token for good."""
    return Call(
        "recurrent/disable",
        {"recurrent": {"token": token}},
        _recurrent,
        V1,
        idempotency_key=key(idempotency_key),
    )


def fps_banks(version: ApiVersion) -> Call[list[FpsBank]]:  # noqa: ARG001 - v1 only
    """``fps/banks`` (API v1): the banks of the Faster Payment System (a GET, body ``[]``)."""
    return Call(
        path="fps/banks",
        body=[],
        parse=lambda data: [FpsBank.model_validate(b) for b in data["banks"]],
        version=V1,
        http_method="GET",
        mutating=False,
    )
