"""KassaError → HTTP status and the error envelope. The only place codes meet HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import orjson

from kassa.domain import errors as e

if TYPE_CHECKING:
    from pydantic import ValidationError

STATUS: Final[dict[type[e.KassaError], int]] = {
    e.BodyTooLarge: 413,
    e.MethodNotFound: 404,
    e.InvalidRequest: 400,
    e.IdempotencyKeyAlreadyExists: 400,
    e.IdentificationError: 401,
    e.AuthenticationError: 401,
    e.AuthorizationError: 403,
    e.SessionNotFound: 404,
    e.InvalidSessionStatus: 409,
    e.BusinessDecline: 422,
}


def status_of(error: e.KassaError) -> int:
    """HTTP status for an error: the most specific class in ``STATUS`` wins, else 500."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def envelope(code: str, description: str) -> bytes:
    """``{"status":"error","error":{"code":…,"description":…}}``."""
    return orjson.dumps(
        {"status": "error", "error": {"code": code, "description": description}},
    )


def render(error: e.KassaError) -> tuple[int, bytes]:
    """Status and body for a KassaError; unknown errors say only ``internal_error``."""
    status = status_of(error)
    if status == 500:  # noqa: PLR2004
        return status, envelope("internal_error", "internal error, retry later")
    return status, envelope(error.code, error.description)


def _loc(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif parts:
            parts.append(f".{item}")
        else:
            parts.append(item)
    return "".join(parts)


def from_validation(exc: ValidationError) -> e.InvalidRequest:
    """The first schema violation as ``invalid_request`` naming the field, never the value."""
    first = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    where = _loc(tuple(first["loc"]))
    message = first["msg"].removeprefix("Value error, ")
    return e.InvalidRequest(f"{where}: {message}" if where else message)
