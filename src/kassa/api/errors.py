"""KassaError → HTTP status and the error envelope. The only place codes meet HTTP."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Final

import orjson

from kassa.domain import errors as e

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

STATUS: Final[dict[type[e.KassaError], int]] = {
    e.BodyTooLarge: 413,
    e.MethodNotFound: 404,
    e.InvalidRequest: 400,
    e.IdempotencyKeyAlreadyExists: 400,
    e.IdentificationError: 401,
    e.AuthenticationError: 401,
    e.AuthorizationError: 403,
    e.SessionNotFound: 404,
    e.ProjectNotFound: 404,
    e.InvalidSessionStatus: 409,
    e.PublicTokenNotFound: 404,
    e.PublicTokenExpired: 410,
    e.PublicTokenUsed: 410,
    e.TooManyAttempts: 429,
    e.BusinessDecline: 422,
}


def status_of(error: e.KassaError) -> int:
    """HTTP status for an error: the most specific class in ``STATUS`` wins, else 500."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def headers_of(error: e.KassaError) -> dict[str, str]:
    """Extra response headers an error carries: ``Retry-After`` for a key still in flight."""
    if isinstance(error, e.IdempotencyKeyInFlight):
        return {"Retry-After": str(error.retry_after)}
    return {}


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


@functools.cache
def _json_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def _resolve(node: Any, defs: dict[str, Any]) -> Any:  # noqa: ANN401 - JSON schema
    """Follow ``$ref`` and unwrap ``X | None`` until a concrete schema (or None)."""
    while isinstance(node, dict):
        if "$ref" in node:
            node = defs.get(str(node["$ref"]).rsplit("/", 1)[-1])
            continue
        options = [o for o in node.get("anyOf", ()) if o.get("type") != "null"]
        if len(options) == 1:
            node = options[0]
            continue
        return node
    return None


def _field_path(loc: tuple[int | str, ...], model: type[BaseModel] | None) -> str:
    """``loc`` as ``a.b[0].c``, without the tags pydantic inserts for discriminated unions.

    A tagged union puts the chosen tag into the location (``payment_details.card.card.…``),
    which is not a field. The model's JSON schema, walked alongside, says where a union is.
    """
    root = _json_schema(model) if model is not None else None
    defs: dict[str, Any] = root.get("$defs", {}) if root else {}
    node: Any = root
    parts: list[str] = []
    for item in loc:
        node = _resolve(node, defs)
        if isinstance(node, dict) and "discriminator" in node and isinstance(item, str):
            node = {"$ref": node["discriminator"].get("mapping", {}).get(item, "")}
            continue  # the tag of a discriminated union, not a field
        if isinstance(item, int):
            parts.append(f"[{item}]")
            node = node.get("items") if isinstance(node, dict) else None
        else:
            parts.append(f".{item}" if parts else item)
            node = node.get("properties", {}).get(item) if isinstance(node, dict) else None
    return "".join(parts)


def from_validation(exc: ValidationError, model: type[BaseModel] | None = None) -> e.InvalidRequest:
    """The first schema violation as ``invalid_request`` naming the field, never the value.

    With the ``model`` that was validated, union tags are left out of the field name.
    """
    first = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    where = _field_path(tuple(first["loc"]), model)
    message = first["msg"].removeprefix("Value error, ")
    return e.InvalidRequest(f"{where}: {message}" if where else message)
