"""The ``session/*`` methods (and ``fps/customer_verification``), each written once.

A builder turns keyword arguments into the JSON body in the field names of the client's API
version, gives the call an idempotency key (yours, or a fresh one), and says how to read the
answer; ``_methods.Methods`` makes ``Client`` and ``AsyncClient`` methods of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kassa_client._bodies import fields_of, session_call, wire
from kassa_client._call import ApiVersion

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from kassa_client._call import Call
    from kassa_client.models import (
        AmountDetails,
        Customer,
        Participant,
        ParticipantDetails,
        PaymentDetails,
        PaymentMethod,
        PaymentOptions,
        PaymentRequest,
        PaymentSession,
        PayoutRequest,
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
    body = fields_of(
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
    return session_call(version, "session/create", body, idempotency_key)


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
    body = fields_of(
        version,
        extra,
        payment_details=payment_details,
        amount_details=amount_details,
        customer=customer,
        participant_details=participant_details,
        payment_options=payment_options,
        metadata=metadata,
    )
    return session_call(version, "session/init/payment", body, idempotency_key)


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
    body = fields_of(
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
    return session_call(version, "session/start/payment", body, idempotency_key)


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
    body = fields_of(
        version,
        extra,
        payment_method=payment_method,
        amount_details=amount_details,
        participant_details=participant_details,
        customer=customer,
        metadata=metadata,
    )
    return session_call(version, "session/init/payout", body, idempotency_key)


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
    body = fields_of(
        version,
        extra,
        session_id=session_id,
        payment_method=payment_method,
        amount_details=amount_details,
        participant_details=participant_details,
        customer=customer,
        metadata=metadata,
    )
    return session_call(version, "session/start/payout", body, idempotency_key)


def confirm(
    version: ApiVersion,
    session_id: str,
    *,
    confirm_information: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Call[PaymentSession]:
    """``session/confirm``: go ahead with the operation after ``ready_to_confirm``."""
    body = fields_of(version, session_id=session_id, confirm_information=confirm_information)
    return session_call(version, "session/confirm", body, idempotency_key)


def cancel(
    version: ApiVersion, session_id: str, *, idempotency_key: str | None = None
) -> Call[PaymentSession]:
    """``session/cancel``: cancel after ``ready_to_confirm``, or release a hold."""
    return session_call(version, "session/cancel", {"session_id": session_id}, idempotency_key)


def capture(
    version: ApiVersion,
    session_id: str,
    *,
    amount_details: AmountDetails | None = None,
    idempotency_key: str | None = None,
) -> Call[PaymentSession]:
    """``session/capture``: debit the whole hold, or ``amount_details`` of it."""
    body = fields_of(version, session_id=session_id, amount_details=amount_details)
    return session_call(version, "session/capture", body, idempotency_key)


def refund(
    version: ApiVersion,
    session_id: str,
    *,
    amount_details: AmountDetails | None = None,
    metadata: Any = None,  # noqa: ANN401 - any JSON value
    idempotency_key: str | None = None,
) -> Call[PaymentSession]:
    """``session/refund``: refund the rest of a succeeded payment, or ``amount_details`` of it."""
    body = fields_of(
        version, session_id=session_id, amount_details=amount_details, metadata=metadata
    )
    return session_call(version, "session/refund", body, idempotency_key)


def chargeback(
    version: ApiVersion, session_id: str, *, idempotency_key: str | None = None
) -> Call[PaymentSession]:
    """``session/chargeback``: a test chargeback of what is left of the session's payment.

    In Bank 131's SDK; kassa serves it in the sandbox only. The payment gets a refund with
    ``is_chargeback=True`` and a ``payment_refunded`` webhook follows.
    """
    return session_call(version, "session/chargeback", {"session_id": session_id}, idempotency_key)


def session_status(version: ApiVersion, session_id: str) -> Call[PaymentSession]:
    """``session/status``: the session with all its operations (only reads)."""
    return session_call(version, "session/status", {"session_id": session_id}, None, mutating=False)


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
        body["payment_list"] = [fields_of(v2, **dict(p)) for p in acquiring_payments]
    if payments:
        body["payout_list"] = [fields_of(v2, **dict(p)) for p in payments]
    return session_call(v2, "session/multi/init", body, idempotency_key)


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
    body = fields_of(version, session_id=session_id, payment_method=method)
    if recipient is not None:
        body["participant_details"] = {"recipient": wire(recipient)}
    return session_call(version, "fps/customer_verification", body, idempotency_key)
