"""The request edge: body size, project, ``X-PARTNER-SIGN`` over the raw bytes, then JSON.

Nothing is parsed before the signature verifies: a tampered body never reaches pydantic.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from kassa.api.errors import from_validation
from kassa.domain.errors import (
    AuthenticationError,
    BodyTooLarge,
    IdentificationError,
    InvalidRequest,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from starlette.requests import Request

    from kassa.domain.project import Project
    from kassa.service.ports import Store, Verifier

M = TypeVar("M", bound=BaseModel)
_MAX_PROJECT_ID = 128
_MAX_NUMBER = 2**63 - 1  # BIGINT, and what a 64-bit client can hold
_LONG_NUMBER = re.compile(rb"\d{19}")


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated request: its project and the exact bytes it signed."""

    project: Project
    body: bytes
    idempotency_key: str | None


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes before reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        msg = f"request body over {limit} bytes"
        raise BodyTooLarge(msg)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            msg = f"request body over {limit} bytes"
            raise BodyTooLarge(msg)
        chunks.append(chunk)
    return b"".join(chunks)


class ProjectCache:
    """Projects by id for ``ttl`` seconds, so a request usually costs no lookup query.

    Unknown ids are never cached (a new project works at once), and a signature that fails
    against cached keys is checked again against freshly read keys, so a rotated-in key works
    at once. Other changes (settings, a retired key) reach a running server within ``ttl``.
    """

    _MAX_ENTRIES = 10_000

    def __init__(self, ttl: float) -> None:
        """Cache for ``ttl`` seconds (0 disables the cache)."""
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Project]] = {}

    async def get(self, store: Store, project_id: str, *, fresh: bool = False) -> Project | None:
        """The project, from the cache unless stale or ``fresh``."""
        now = time.monotonic()
        hit = self._entries.get(project_id)
        if hit is not None and not fresh and hit[0] > now:
            return hit[1]
        project = await store.get_project(project_id)
        if project is None:
            self._entries.pop(project_id, None)
        elif self.ttl > 0:
            if len(self._entries) >= self._MAX_ENTRIES:
                self._entries.clear()
            self._entries[project_id] = (now + self.ttl, project)
        return project


async def authenticate(
    request: Request,
    store: Store,
    projects: ProjectCache,
    limit: int,
    verifier: Verifier,
) -> Caller:
    """Identify the project and verify the signature over the raw body of ``request``."""
    body = await read_body(request, limit)
    headers = request_headers(request.headers.raw)
    caller = await verify_caller(headers, body, store, projects, verifier)
    request.scope["kassa.project"] = caller.project.id
    return caller


def request_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Headers by lower-case name; a repeated one is joined with ``", "`` (RFC 9110 §5.3).

    So a duplicated ``X-PARTNER-PROJECT`` or ``X-PARTNER-SIGN`` is seen, and refused, instead
    of one copy silently winning (a proxy in front may pick the other one).
    """
    found: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        found[key] = f"{found[key]}, {text}" if key in found else text
    return found


async def verify_caller(
    headers: Mapping[str, str],
    body: bytes,
    store: Store,
    projects: ProjectCache,
    verifier: Verifier,
) -> Caller:
    """Identify the project by its header and verify the signature over ``body``."""
    project_id = headers.get("x-partner-project", "").strip()
    if not project_id or len(project_id) > _MAX_PROJECT_ID:
        msg = "X-PARTNER-PROJECT header is missing"
        raise IdentificationError(msg)
    if "," in project_id:
        msg = "X-PARTNER-PROJECT header given more than once"
        raise IdentificationError(msg)
    project = await projects.get(store, project_id)
    if project is None:
        msg = "unknown project"
        raise IdentificationError(msg)
    signature = headers.get("x-partner-sign")
    if not signature:
        msg = "X-PARTNER-SIGN header is missing"
        raise AuthenticationError(msg)
    if "," in signature:
        msg = "X-PARTNER-SIGN header given more than once"
        raise AuthenticationError(msg)
    if not verifier.verify_any(body, signature, project.public_keys):
        project = await projects.get(store, project_id, fresh=True)
        if project is None or not verifier.verify_any(body, signature, project.public_keys):
            msg = "X-PARTNER-SIGN does not verify for this body and project"
            raise AuthenticationError(msg)
    return Caller(project, body, headers.get("x-partner-idempotency-key"))


def parse(model: type[M], body: bytes) -> M:
    """Validate the verified body against ``model``; ``[]`` reads as ``{}``."""
    try:
        data = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError:
        msg = "body: malformed JSON"
        raise InvalidRequest(msg) from None
    if data == []:
        data = {}
    if not isinstance(data, dict):
        msg = "body: must be a JSON object"
        raise InvalidRequest(msg)
    # Two things no column can hold, looked for only when the raw bytes hint at them: a NUL
    # (only ``\\u0000`` puts one in JSON text; PostgreSQL refuses it) and a number beyond
    # 64 bits (19+ digits; orjson would turn one over 2**64 into a float, BIGINT overflows).
    if b"\\u0000" in body or _LONG_NUMBER.search(body):
        problem = _unstorable(data)
        if problem is not None:
            raise InvalidRequest(problem)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc, model) from None
    except InvalidRequest:
        raise


def _unstorable(data: object) -> str | None:
    """``field: why`` for the first U+0000 or out-of-range number (iterative: any depth)."""
    stack: list[tuple[str, object]] = [("", data)]
    while stack:
        path, node = stack.pop()
        problem = _unstorable_scalar(node)
        if problem is not None:
            return f"{path or 'body'}: {problem}"
        if isinstance(node, dict):
            for key, value in node.items():
                if "\x00" in key:
                    return f"{path or 'body'}: must not contain NUL characters"
                stack.append((f"{path}.{key}" if path else str(key), value))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(node))
    return None


def _unstorable_scalar(node: object) -> str | None:
    if isinstance(node, str) and "\x00" in node:
        return "must not contain NUL characters"
    if isinstance(node, int | float) and not isinstance(node, bool) and abs(node) > _MAX_NUMBER:
        return "number out of range"
    return None
