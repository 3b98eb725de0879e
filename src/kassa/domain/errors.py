"""kassa's one exception tree. Each class carries a stable wire code and knows nothing of HTTP.

``api/errors.py`` maps a code to an HTTP status, once, for the whole program.

KassaError                       any failure a caller may see (code: internal_error)
├── InvalidRequest               malformed JSON or a schema violation (invalid_request)
│   └── BodyTooLarge             request body over the limit (invalid_request, 413)
├── MethodNotFound               no such API method path (invalid_request, 404)
├── IdempotencyKeyAlreadyExists  key running, or reused with another body
│   └── IdempotencyKeyInFlight   same key and body still running: retry after ``retry_after`` s
├── IdentificationError          unknown or missing X-PARTNER-PROJECT
├── AuthenticationError          missing, garbled or wrong X-PARTNER-SIGN
├── AuthorizationError           method disabled for the project
│   └── CsrfMismatch             a widget form post without its form token
├── SessionNotFound              no such session for this project (never leaks others')
├── ProjectNotFound              no such project (admin use cases: CLI, dashboard)
├── InvalidSessionStatus         operation not allowed in the current state
├── PublicTokenInvalid           a widget page's public token cannot be used (pages only)
│   ├── PublicTokenNotFound      never issued, another project's, or for another widget
│   ├── PublicTokenExpired       past its lifetime
│   └── PublicTokenUsed          its one operation is done
├── TooManyAttempts              card attempts over the limit (per public token or per IP)
├── BusinessDecline              a 422 decline that is not an operation result
│   ├── InsufficientFunds        payout above the wallet balance
│   ├── RefundAmountExceeded     refunds would pass the captured amount
│   └── RecurrentTokenInactive   the recurrent token was disabled
├── ConcurrentUpdate             optimistic version check lost (retried internally)
└── InternalError                anything unexpected; never carries a trace to the wire
    └── UnbalancedTransaction    ledger postings that do not sum to zero (a bug, never sent)
"""

from __future__ import annotations

from typing import ClassVar


class KassaError(Exception):
    """Base of every error kassa reports; ``code`` is the stable wire code."""

    code: ClassVar[str] = "internal_error"

    def __init__(self, description: str = "") -> None:
        super().__init__(description or self.code)
        self.description = description or self.code


class InvalidRequest(KassaError):
    """The request is malformed or violates the schema; the description names the field."""

    code = "invalid_request"


class BodyTooLarge(InvalidRequest):
    """The request body is larger than the configured limit."""


class MethodNotFound(KassaError):
    """The path names no API method."""

    code = "invalid_request"


class IdempotencyKeyAlreadyExists(KassaError):
    """The idempotency key is in use by a running request, or was used with another body."""

    code = "idempotency_key_already_exists"


class IdempotencyKeyInFlight(IdempotencyKeyAlreadyExists):
    """The same request is still running (or its process died): retry with the same key."""

    def __init__(self, description: str = "", retry_after: int = 1) -> None:
        super().__init__(description)
        self.retry_after = retry_after


class DeferredClaimLost(IdempotencyKeyAlreadyExists):
    """A deferred idempotency claim found its key already stored when it committed.

    Internal: ``service/idempotency.run_idempotent`` catches it and decides as for any key
    that exists (replay, in flight, or another body); it never reaches the wire by itself.
    """


class IdentificationError(KassaError):
    """The project is unknown or the project header is missing."""

    code = "identification_error"


class AuthenticationError(KassaError):
    """The request signature is missing, garbled or does not verify."""

    code = "authentication_error"


class AuthorizationError(KassaError):
    """The project may not call this method."""

    code = "authorization_error"


class CsrfMismatch(AuthorizationError):
    """A widget form was posted without the form token its page carried."""

    code = "csrf_mismatch"


class SessionNotFound(KassaError):
    """No session with this id belongs to the calling project."""

    code = "session_not_found"


class ProjectNotFound(KassaError):
    """No project with this id (the admin use cases; the API answers identification_error)."""

    code = "project_not_found"


class InvalidSessionStatus(KassaError):
    """The operation is not allowed in the current state; the description says which."""

    code = "invalid_session_status"


class PublicTokenInvalid(KassaError):
    """A widget page's public token cannot be used; the subclass says why."""

    code = "public_token_invalid"


class PublicTokenNotFound(PublicTokenInvalid):
    """No such public token (also another project's, or one issued for another widget)."""

    code = "public_token_not_found"


class PublicTokenExpired(PublicTokenInvalid):
    """The public token is past its lifetime."""

    code = "public_token_expired"


class PublicTokenUsed(PublicTokenInvalid):
    """The public token's one operation is already done."""

    code = "public_token_used"


class TooManyAttempts(KassaError):
    """Too many card attempts for one public token or from one address."""

    code = "too_many_attempts"


class BusinessDecline(KassaError):
    """A business rule refused the operation before it started."""


class InsufficientFunds(BusinessDecline):
    """The payout wallet does not cover the amount."""

    code = "insufficient_funds"


class RefundAmountExceeded(BusinessDecline):
    """The refunds of a payment would exceed what was captured."""

    code = "refund_amount_exceeded"


class RecurrentTokenInactive(BusinessDecline):
    """The recurrent token is disabled."""

    code = "recurrent_token_inactive"


class ConcurrentUpdate(KassaError):
    """Another transaction changed the aggregate first; the use case is retried."""

    code = "internal_error"


class InternalError(KassaError):
    """Something unexpected; the wire sees only the code."""

    code = "internal_error"


class UnbalancedTransaction(InternalError):
    """A ledger transaction whose postings do not sum to zero: a bug, refused when built."""
