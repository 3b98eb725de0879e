"""Registers protocol methods: POST routes that authenticate, parse, run a handler, reply.

Each method's request model is published in the OpenAPI document even though the endpoint
reads the raw body itself (it must verify the signature before any parsing). Requests are
served by ``api/fast.py:ProtocolPath`` from ``Runtime.protocol_routes``; the FastAPI route is
what documents the method (and answers if the fast path is not mounted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi.responses import Response
from starlette.requests import Request  # noqa: TC002 - FastAPI resolves it at run time

from kassa.api.auth import Caller, ProjectCache, authenticate, parse
from kassa.api.fast import ProtocolRoute
from kassa.api.schemas.common import ErrorResponse
from kassa.service.idempotency import fingerprint, run_idempotent

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from fastapi import FastAPI
    from pydantic import BaseModel

    from kassa.config import Settings
    from kassa.service.deps import Deps
    from kassa.service.idempotency import Reply

M = TypeVar("M", bound="BaseModel")

_HEADERS: list[dict[str, Any]] = [
    {
        "name": "X-PARTNER-PROJECT",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "Your project id",
    },
    {
        "name": "X-PARTNER-SIGN",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "Base64 RSA-SHA256 (PKCS#1 v1.5) signature of the exact body bytes",
    },
    {
        "name": "X-PARTNER-IDEMPOTENCY-KEY",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "maxLength": 255},
        "description": "Same key + same body replays the stored response for 24 h",
    },
]

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in (
        (400, "invalid_request, idempotency_key_already_exists"),
        (401, "identification_error, authentication_error"),
        (404, "session_not_found"),
        (409, "invalid_session_status"),
        (413, "body over the size limit"),
        (422, "business decline"),
        (500, "internal_error"),
    )
}


@dataclass(frozen=True, slots=True)
class Call:
    """What a handler gets: dependencies, the caller, the method path and the API version."""

    deps: Deps
    caller: Caller
    path: str
    version: str


async def idempotent(
    call: Call, run: Callable[[], Awaitable[Reply]], *, defer_claim: bool = False
) -> Reply:
    """Run a mutating use case under the caller's idempotency key (the claim rides along).

    ``defer_claim``: the use case's first commit stores its key — with the reply, or bound to
    the operation it starts (``run_idempotent``'s deferred claim: one statement fewer).
    """
    deps = call.deps
    return await run_idempotent(
        deps.store,
        deps.clock,
        deps.idempotency,
        project_id=call.caller.project.id,
        key=call.caller.idempotency_key,
        request_fingerprint=fingerprint(call.path, call.caller.body),
        run=run,
        deferred=defer_claim,
    )


class Runtime:
    """Holds the dependencies, which exist only once the app has started."""

    def __init__(self, settings: Settings, deps: Deps | None = None) -> None:
        """Start with the settings and, when given, ready-made dependencies."""
        self.settings = settings
        self._deps = deps
        self.projects = ProjectCache(settings.project_cache_seconds)
        self.protocol_routes: dict[tuple[str, str], ProtocolRoute] = {}  # served by api/fast

    @property
    def deps(self) -> Deps:
        """The dependencies; only valid while the app runs."""
        if self._deps is None:
            msg = "kassa app has not started"
            raise RuntimeError(msg)
        return self._deps

    @deps.setter
    def deps(self, value: Deps | None) -> None:
        self._deps = value

    @property
    def deps_or_none(self) -> Deps | None:
        """The dependencies if the app has them."""
        return self._deps


def _endpoint(
    runtime: Runtime,
    handler: Callable[[Call, M], Awaitable[Reply]],
    model: type[M],
    route: str,
    version: str,
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        deps = runtime.deps
        caller = await authenticate(
            request,
            deps.store,
            runtime.projects,
            runtime.settings.max_body_bytes,
            deps.verifier,
        )
        payload = parse(model, caller.body)
        session_id = getattr(payload, "session_id", None)
        if session_id is not None:
            request.scope["kassa.session"] = session_id
        reply = await handler(Call(deps, caller, route, version), payload)
        if reply.session_id is not None:
            request.scope["kassa.session"] = reply.session_id
        request.scope["kassa.outcome"] = "ok" if reply.status < 400 else "error"  # noqa: PLR2004
        return Response(reply.body, reply.status, media_type="application/json")

    return endpoint


def register(
    app: FastAPI,
    *,
    runtime: Runtime,
    path: str,
    versions: tuple[str, ...],
    summary: str,
    request_models: dict[str, type[M]],
    response_models: dict[str, type[BaseModel]],
    handler: Callable[[Call, M], Awaitable[Reply]],
    http_methods: tuple[str, ...] = ("POST",),
) -> None:
    """Add ``/api/<version>/<path>`` for each version."""
    schemas: dict[str, Any] = app.state.request_schemas
    for version in versions:
        model = request_models[version]
        schemas[model.__name__] = model
        route = f"/api/{version}/{path}"

        endpoint = _endpoint(runtime, handler, model, route, version)
        for http in http_methods:
            runtime.protocol_routes[http, route] = ProtocolRoute(
                route, version, model, handler, names_session="session_id" in model.model_fields
            )

        for http in http_methods:  # one route per HTTP method: unique OpenAPI operation ids
            app.add_api_route(
                route,
                endpoint,
                methods=[http],
                summary=summary,
                name=f"{version}:{path}" if http == "POST" else f"{version}:{path}:{http.lower()}",
                operation_id=f"{version}_{path.replace('/', '_')}_{http.lower()}",
                response_model=response_models[version],
                responses=_ERRORS,
                tags=[version],
                openapi_extra={
                    "parameters": _HEADERS,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{model.__name__}"},
                            },
                        },
                    },
                },
            )
