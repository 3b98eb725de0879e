"""The one exception tree of kassa-client. Every error the client raises is a ``KassaClientError``.

KassaClientError                 anything this client raises on purpose
├── ApiError                     an error answer: code, description, http_status, session_id
│   ├── AuthenticationError      authentication_error: X-PARTNER-SIGN missing or wrong
│   ├── IdentificationError      identification_error: unknown X-PARTNER-PROJECT
│   ├── InvalidRequestError      invalid_request: malformed body; the description names the field
│   ├── IdempotencyConflictError idempotency_key_already_exists: key in use or used for another body
│   ├── SessionNotFoundError     session_not_found: no such session for this project
│   ├── InvalidSessionStatusError invalid_session_status: not allowed in the session's state
│   ├── InsufficientFundsError   insufficient_funds: the payout wallet does not cover it
│   ├── RefundAmountExceededError refund_amount_exceeded: more than was captured
│   ├── RecurrentTokenInactiveError recurrent_token_inactive: the token was disabled
│   ├── InternalServerError      internal_error: the server failed; retried before raised
│   └── UnexpectedResponseError  an answer that is not the protocol's (not JSON, wrong shape)
├── TransportError               no answer: connection failed, timed out or dropped (after retries)
├── SignatureError               a webhook whose X-PARTNER-SIGN does not verify over its body
└── WebhookPayloadError          a verified webhook body that is not a webhook (bad JSON, type)

A code this client does not know becomes a plain ``ApiError`` carrying that code. A declined
card is not an exception: the call succeeds and the payment ends ``failed`` with its ``error``.
"""

from __future__ import annotations

from typing import ClassVar, Final


class KassaClientError(Exception):
    """Base of every error raised by kassa-client."""


class ApiError(KassaClientError):
    """The server answered with the error envelope ``{"status":"error","error":{…}}``.

    ``session_id`` is the session the call was about (when it named one);
    ``idempotency_key`` is the key the call was sent with, to retry it later safely.
    """

    code_name: ClassVar[str | None] = None  # the wire code a subclass stands for

    def __init__(
        self,
        code: str,
        description: str,
        http_status: int,
        *,
        session_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {description} (HTTP {http_status})")
        self.code = code
        self.description = description
        self.http_status = http_status
        self.session_id = session_id
        self.idempotency_key = idempotency_key


class AuthenticationError(ApiError):
    """``authentication_error``: the request signature is missing, garbled or wrong."""

    code_name = "authentication_error"


class IdentificationError(ApiError):
    """``identification_error``: the project is unknown or its header missing."""

    code_name = "identification_error"


class InvalidRequestError(ApiError):
    """``invalid_request``: the body is malformed or violates the schema."""

    code_name = "invalid_request"


class IdempotencyConflictError(ApiError):
    """``idempotency_key_already_exists``: the key is running or was used with another body."""

    code_name = "idempotency_key_already_exists"


class SessionNotFoundError(ApiError):
    """``session_not_found``: no session with this id belongs to the project."""

    code_name = "session_not_found"


class InvalidSessionStatusError(ApiError):
    """``invalid_session_status``: the operation is not allowed in the current state."""

    code_name = "invalid_session_status"


class InsufficientFundsError(ApiError):
    """``insufficient_funds``: the payout wallet does not cover the amount."""

    code_name = "insufficient_funds"


class RefundAmountExceededError(ApiError):
    """``refund_amount_exceeded``: the refunds would exceed the captured amount."""

    code_name = "refund_amount_exceeded"


class RecurrentTokenInactiveError(ApiError):
    """``recurrent_token_inactive``: the recurrent token was disabled."""

    code_name = "recurrent_token_inactive"


class InternalServerError(ApiError):
    """``internal_error``: the server failed (raised once the retries are spent)."""

    code_name = "internal_error"


class UnexpectedResponseError(ApiError):
    """An answer outside the protocol: not JSON, no envelope, or a shape that does not parse."""

    code_name = "unexpected_response"


class TransportError(KassaClientError):
    """No usable answer: the connection failed, timed out or dropped, and retries ran out.

    The request may or may not have been executed. Retrying with the same
    ``idempotency_key`` is safe: the server runs it at most once.
    """

    def __init__(self, message: str, *, idempotency_key: str | None = None) -> None:
        super().__init__(message)
        self.idempotency_key = idempotency_key


class SignatureError(KassaClientError):
    """A webhook's ``X-PARTNER-SIGN`` does not verify over the exact body bytes."""


class WebhookPayloadError(KassaClientError):
    """A correctly signed body that is not a webhook: not JSON, no session, or an unknown type."""


_BY_CODE: Final[dict[str, type[ApiError]]] = {
    cls.code_name: cls
    for cls in (
        AuthenticationError,
        IdentificationError,
        InvalidRequestError,
        IdempotencyConflictError,
        SessionNotFoundError,
        InvalidSessionStatusError,
        InsufficientFundsError,
        RefundAmountExceededError,
        RecurrentTokenInactiveError,
        InternalServerError,
        UnexpectedResponseError,
    )
    if cls.code_name is not None
}


def api_error(
    code: str,
    description: str,
    http_status: int,
    *,
    session_id: str | None = None,
    idempotency_key: str | None = None,
) -> ApiError:
    """The exception for a wire ``code``: its subclass, or ``ApiError`` for an unknown code."""
    cls = _BY_CODE.get(code, ApiError)
    return cls(
        code,
        description,
        http_status,
        session_id=session_id,
        idempotency_key=idempotency_key,
    )
