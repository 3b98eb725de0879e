"""The signed protocol methods served on a thin raw-ASGI path, in front of FastAPI.

A profile of ``session/create`` under load put a fifth of the time in the framework's request
machinery (middleware layers, routing, endpoint wrappers). The protocol methods do not need
it: the endpoint reads the raw body itself (the signature is verified before any parsing) and
answers bytes it rendered once. So ``ProtocolPath`` — pure ASGI, in front of FastAPI's own
``__call__`` (``KassaApp``) — looks the ``(method, path)`` up in one dict and serves a
protocol call directly: body cap, project, signature, pydantic model, handler, reply; then one
log line and the metrics, as ``EdgeMiddleware`` does for every other route. Anything else
(docs, ``/openapi.json``, pages, ops) goes on to FastAPI, which still documents the protocol
methods: ``register`` adds each one to both.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from kassa.api import errors
from kassa.api.auth import Caller, parse, request_headers, verify_caller
from kassa.domain.errors import BodyTooLarge, KassaError
from kassa.logging import request_line

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from pydantic import BaseModel
    from starlette.types import ASGIApp, Receive, Scope, Send

    from kassa.api.methods import Call, Runtime
    from kassa.api.metrics import ApiMetrics
    from kassa.service.idempotency import Reply

log = structlog.get_logger("kassa.api")

_JSON = [(b"content-type", b"application/json")]


@dataclass(frozen=True, slots=True)
class ProtocolRoute:
    """One protocol method at one path: its handler and request model."""

    route: str
    version: str
    model: type[BaseModel]
    handler: Callable[[Call, Any], Awaitable[Reply]]
    names_session: bool = False  # the model has a ``session_id`` field (for the log line)


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The raw body from ASGI messages, refusing more than ``limit`` bytes early."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            msg = f"request body over {limit} bytes"
            raise BodyTooLarge(msg)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            msg = f"request body over {limit} bytes"
            raise BodyTooLarge(msg)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class ProtocolPath:
    """Serves registered protocol routes directly; passes every other request to ``app``."""

    def __init__(self, app: ASGIApp, runtime: Runtime, metrics: ApiMetrics) -> None:
        """Wrap ``app``; routes come from ``runtime.protocol_routes``."""
        self.app = app
        self.runtime = runtime
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request."""
        if scope["type"] == "http":
            entry = self.runtime.protocol_routes.get((scope["method"], scope["path"]))
            if entry is not None:
                await self._serve(entry, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _serve(
        self, entry: ProtocolRoute, scope: Scope, receive: Receive, send: Send
    ) -> None:
        started = time.perf_counter()
        facts: dict[str, str | None] = {"project": None, "session": None}
        extra: list[tuple[bytes, bytes]] = []
        try:
            status, body, outcome = await self._answer(entry, scope, receive, facts)
        except KassaError as exc:
            status, body = errors.render(exc)
            outcome = exc.code
            extra = [(k.lower().encode(), v.encode()) for k, v in errors.headers_of(exc).items()]
        except Exception as exc:
            log.exception("unhandled_error", error_type=type(exc).__name__, path=entry.route)
            status, body = errors.render(KassaError())
            outcome = "internal_error"
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    *_JSON,
                    (b"content-length", str(len(body)).encode()),
                    *extra,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        elapsed = time.perf_counter() - started
        self.metrics.request(entry.route, outcome, elapsed)
        request_line(
            method=entry.route,
            project=facts["project"],
            session_id=facts["session"],
            outcome=outcome,
            status=status,
            latency_ms=round(elapsed * 1000, 3),
        )

    async def _answer(
        self,
        entry: ProtocolRoute,
        scope: Scope,
        receive: Receive,
        facts: dict[str, str | None],
    ) -> tuple[int, bytes, str]:
        from kassa.api.methods import Call  # noqa: PLC0415 - methods imports this module

        runtime = self.runtime
        deps = runtime.deps
        body = await read_body(scope, receive, runtime.settings.max_body_bytes)
        headers = request_headers(scope["headers"])
        caller: Caller = await verify_caller(
            headers, body, deps.store, runtime.projects, deps.verifier
        )
        facts["project"] = caller.project.id
        payload = parse(entry.model, caller.body)
        if entry.names_session:
            session_id = getattr(payload, "session_id", None)
            if isinstance(session_id, str):
                facts["session"] = session_id
        reply = await entry.handler(Call(deps, caller, entry.route, entry.version), payload)
        if reply.session_id is not None:
            facts["session"] = reply.session_id
        return reply.status, reply.body, "ok" if reply.status < 400 else "error"  # noqa: PLR2004
