"""The protocol's methods, each written once as a builder of a ``Call`` (see ``_call.Method``).

A builder turns keyword arguments into the JSON body in the field names of the client's API
version, gives a mutating call an idempotency key (yours, or a fresh one), and says how to
read the answer. ``Client`` and ``AsyncClient`` both inherit the table ``Methods``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kassa_client._call import ApiVersion, Call, Method, new_idempotency_key
from kassa_client.models import FpsBank, PaymentSession, RecurrentToken, TokenInfo, Wallet
from kassa_client.models._base import KassaModel

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from kassa_client.models import (
        AcquiringWidget,
        AmountDetails,
        Customer,
        FpsNoAccountWidget,
        Participant,
        ParticipantDetails,
        PaymentDetails,
        PaymentMethod,
        PaymentOptions,
        PaymentRequest,
        PayoutRequest,
        TokenizeWidget,
    )

V1 = ApiVersion.V1


def _payout_key(version: ApiVersion) -> str:
    return "payout_details" if version is ApiVersion.V2 else "payment_method"


def _wire(value: Any) -> Any:  # noqa: ANN401 - a model or any JSON value
    return value.to_wire() if isinstance(value, KassaModel) else value


def _body(
    version: ApiVersion,
    extra: Mapping[str, Any] | None = None,
    **fields: Any,  # noqa: ANN401 - models or JSON values
) -> dict[str, Any]:
    """The fields that are not None, in ``version``'s names (``payment_method`` → v2's name)."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if value is not None:
            out[_payout_key(version) if name == "payment_method" else name] = _wire(value)
    for name, value in (extra or {}).items():
        out[name] = _wire(value)
    return out


def _session(data: dict[str, Any]) -> PaymentSession:
    return PaymentSession.model_validate(data["session"])


def _recurrent(data: dict[str, Any]) -> RecurrentToken:
    return RecurrentToken.model_validate(data["recurrent"])


def _key(key: str | None) -> str:
    return key if key is not None else new_idempotency_key()


def _session_call(
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
        parse=_session,
        version=version,
        mutating=mutating,
        idempotency_key=_key(idempotency_key) if mutating else None,
        session_id=session_id if isinstance(session_id, str) else None,
    )


def create_session(
    version: ApiVersion,
    *,
    amount_details: AmountDetails | None = None,
    payment_details: PaymentDetails | None = None,
    payment_method: PaymentMethod | None = None,
    customer: Customer | None = None,
    participant_details: ParticipantDetails | None = None,
    payment_options: PaymentOptions | None = None,
    metadata: Any = None,  # noqa: ANN401 - any JSON value
    extra: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Call[PaymentSession]:
    """``session/create``: a session, optionally pre-filled for a later start (status ``created``).

    ``payment_method`` is the payout destination (sent as ``payout_details`` by a v2 client).
    ``extra`` adds fields this client has no keyword for (``fiscalization_details``, …).
    """
    body = _body(
        version,
        extra,
        amount_details=amount_details,
        payment_details=payment_details,
        payment_method=payment_method,
        customer=customer,
        participant_details=participant_details,
        payment_options=payment_options,
        metadata=metadata,
    )
    return _session_call(version, "session/create", body, idempotency_key)


def init_payment(
    version: ApiVersion,
    *,
    payment_details: PaymentDetails,
    amount_details: AmountDetails,
    customer: Customer,
    participant_details: ParticipantDetails | None = None,
    payment_options: PaymentOptions | None = None,
    metadata: Any = None,  # noqa: ANN401 - any JSON value
    extra: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Call[PaymentSession]:
    """``session/init/payment``: create a session and start its payment in one call."""
    body = _body(
        version,
        extra,
        payment_details=payment_details,
        amount_details=amount_details,
        customer=customer,
        participant_details=participant_details,
        payment_options=payment_options,
        metadata=metadata,
    )
    return _session_call(version, "session/init/payment", body, idempotency_key)


def start_payment(
    version: ApiVersion,
    session_id: str,
    *,
    payment_details: PaymentDetails | None = None,
    amount_details: AmountDetails | None = None,
    customer: Customer | None = None,
    participant_details: ParticipantDetails | None = None,
    payment_options: PaymentOptions | None = None,
    metadata: Any = None,  # noqa: ANN401 - any JSON value
    extra: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Call[PaymentSession]:
    """``session/start/payment``: start the payment of a created session (start data wins)."""
    body = _body(
        version,
        extra,
        session_id=session_id,
        payment_details=payment_details,
        amount_details=amount_details,
        customer=customer,
        participant_details=participant_details,
        payment_options=payment_options,
        metadata=metadata,
    )
    return _session_call(version, "session/start/payment", body, idempotency_key)


def init_payout(
    version: ApiVersion,
    *,
    payment_method: PaymentMethod,
    amount_details: AmountDetails,
    participant_details: ParticipantDetails | None = None,
    customer: Customer | None = None,
    metadata: Any = None,  # noqa: ANN401 - any JSON value
    extra: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Call[PaymentSession]:
    """``session/init/payout``: create a session and start a payout to ``payment_method``."""
    body = _body(
        version,
        extra,
        payment_method=payment_method,
        amount_details=amount_details,
        participant_details=participant_details,
        customer=customer,
        metadata=metadata,
    )
    return _session_call(version, "session/init/payout", body, idempotency_key)


def start_payout(
    version: ApiVersion,
    session_id: str,
    *,
    payment_method: PaymentMethod | None = None,
    amount_details: AmountDetails | None = None,
    participant_details: ParticipantDetails | None = None,
    customer: Customer | None = None,
    metadata: Any = None,  # noqa: ANN401 - any JSON value
    extra: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Call[PaymentSession]:
    """``session/start/payout``: start the payout of a created session."""
    body = _body(
        version,
        extra,
        session_id=session_id,
        payment_method=payment_method,
        amount_details=amount_details,
        participant_details=participant_details,
        customer=customer,
        metadata=metadata,
    )
    return _session_call(version, "session/start/payout", body, idempotency_key)


def confirm(
    version: ApiVersion,
    session_id: str,
    *,
    confirm_information: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Call[PaymentSession]:
    """``session/confirm``: go ahead with the operation after ``ready_to_confirm``."""
    body = _body(version, session_id=session_id, confirm_information=confirm_information)
    return _session_call(version, "session/confirm", body, idempotency_key)


def cancel(
    version: ApiVersion, session_id: str, *, idempotency_key: str | None = None
) -> Call[PaymentSession]:
    """``session/cancel``: cancel after ``ready_to_confirm``, or release a hold."""
    return _session_call(version, "session/cancel", {"session_id": session_id}, idempotency_key)


def capture(
    version: ApiVersion,
    session_id: str,
    *,
    amount_details: AmountDetails | None = None,
    idempotency_key: str | None = None,
) -> Call[PaymentSession]:
    """``session/capture``: debit the whole hold, or ``amount_details`` of it."""
    body = _body(version, session_id=session_id, amount_details=amount_details)
    return _session_call(version, "session/capture", body, idempotency_key)


def refund(
    version: ApiVersion,
    session_id: str,
    *,
    amount_details: AmountDetails | None = None,
    metadata: Any = None,  # noqa: ANN401 - any JSON value
    idempotency_key: str | None = None,
) -> Call[PaymentSession]:
    """``session/refund``: refund the rest of a succeeded payment, or ``amount_details`` of it."""
    body = _body(version, session_id=session_id, amount_details=amount_details, metadata=metadata)
    return _session_call(version, "session/refund", body, idempotency_key)


def session_status(version: ApiVersion, session_id: str) -> Call[PaymentSession]:
    """``session/status``: the session with all its operations (only reads)."""
    return _session_call(
        version, "session/status", {"session_id": session_id}, None, mutating=False
    )


def multi_init(
    version: ApiVersion,  # noqa: ARG001 - v2 only: always sent to /api/v2
    *,
    acquiring_payments: Sequence[PaymentRequest] = (),
    payments: Sequence[PayoutRequest] = (),
    idempotency_key: str | None = None,
) -> Call[PaymentSession]:
    """``session/multi/init`` (API v2): one session with several payments and payouts.

    Sent to ``/api/v2`` whatever the client's version; ``payments`` are the payouts, as on
    ``PaymentSession``.
    """
    if not acquiring_payments and not payments:
        msg = "multi_init: give at least one of acquiring_payments or payments"
        raise ValueError(msg)
    v2 = ApiVersion.V2
    body: dict[str, Any] = {}
    if acquiring_payments:
        body["payment_list"] = [_body(v2, **dict(p)) for p in acquiring_payments]
    if payments:
        body["payout_list"] = [_body(v2, **dict(p)) for p in payments]
    return _session_call(v2, "session/multi/init", body, idempotency_key)


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
    body = _body(
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
        idempotency_key=_key(idempotency_key),
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
        idempotency_key=_key(idempotency_key),
    )


def fps_verify_customer(
    version: ApiVersion,
    session_id: str,
    *,
    phone: str,
    bank_id: str,
    recipient: Participant | None = None,
    idempotency_key: str | None = None,
) -> Call[PaymentSession]:
    """``fps/customer_verification``: is ``phone`` registered at ``bank_id`` in the FPS?

    The session is accepted when it is, cancelled when it is not.
    """
    system = "faster_payment_system_verification"
    method = {
        "type": "bank_account",
        "bank_account": {"system_type": system, system: {"phone": phone, "bank_id": bank_id}},
    }
    body = _body(version, session_id=session_id, payment_method=method)
    if recipient is not None:
        body["participant_details"] = {"recipient": _wire(recipient)}
    return _session_call(version, "fps/customer_verification", body, idempotency_key)


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


class Methods:
    """The table of protocol methods shared by ``Client`` and ``AsyncClient``."""

    create_session = Method(create_session)
    init_payment = Method(init_payment)
    start_payment = Method(start_payment)
    init_payout = Method(init_payout)
    start_payout = Method(start_payout)
    confirm = Method(confirm)
    cancel = Method(cancel)
    capture = Method(capture)
    refund = Method(refund)
    session_status = Method(session_status)
    multi_init = Method(multi_init)
    wallet_balance = Method(wallet_balance)
    create_token = Method(create_token)
    token_info = Method(token_info)
    recurrent_status = Method(recurrent_status)
    disable_recurrent = Method(disable_recurrent)
    fps_verify_customer = Method(fps_verify_customer)
    fps_banks = Method(fps_banks)


METHOD_NAMES: tuple[str, ...] = tuple(
    name for name, value in vars(Methods).items() if isinstance(value, Method)
)
