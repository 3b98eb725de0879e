"""``create_app(settings)``: the FastAPI application. No module-level app."""

from __future__ import annotations

import gc
import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from kassa import __version__, bootstrap
from kassa.api import errors
from kassa.api.fast import ProtocolPath
from kassa.api.methods import Runtime
from kassa.api.metrics import ApiMetrics
from kassa.api.routes import payment as payment_routes
from kassa.api.routes import payout as payout_routes
from kassa.api.routes import recurrent as recurrent_routes
from kassa.api.routes import refund as refund_routes
from kassa.api.routes import session as session_routes
from kassa.api.routes import token as token_routes
from kassa.domain.errors import InvalidRequest, KassaError, MethodNotFound
from kassa.web import dashboard as dashboard_pages
from kassa.web import demo as demo_page
from kassa.web import pages
from kassa.web import three_ds as three_ds_pages
from kassa.web import widgets as widget_pages

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from kassa.config import Settings
    from kassa.service.deps import Deps

log = structlog.get_logger("kassa.api")


class KassaApp(FastAPI):
    """FastAPI with the protocol fast path (``api/fast.py``) in front of all of it.

    The signed protocol methods are served before FastAPI's own ``__call__`` (its per-request
    telemetry check, Starlette's error middleware), which they do not need; everything else
    goes on to FastAPI unchanged.
    """

    front: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI event: the fast path first, which passes on what it does not serve."""
        await self.front(scope, receive, send)

    async def framework(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI itself (lifespan, docs, pages, the dashboard; every non-protocol route)."""
        await super().__call__(scope, receive, send)


def _json(status: int, body: bytes) -> Response:
    return Response(body, status, media_type="application/json")


class EdgeMiddleware:
    """Times each request, logs one line, counts it, and turns any crash into a clean 500."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        """Wrap ``app``."""
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            log.exception("unhandled_error", error_type=type(exc).__name__, path=scope.get("path"))
            scope["kassa.outcome"] = "internal_error"
            if not response_started:
                status, body = errors.render(KassaError())
                await _json(status, body)(scope, receive, send)
        route = scope.get("route")
        method = getattr(route, "path", None) or "unmatched"
        outcome = scope.get("kassa.outcome") or ("ok" if status < 400 else str(status))  # noqa: PLR2004
        elapsed = time.perf_counter() - started
        if method.startswith("/api/"):
            self.metrics.request(method, outcome, elapsed)
            log.info(
                "request",
                method=method,
                project=scope.get("kassa.project"),
                session_id=scope.get("kassa.session"),
                outcome=outcome,
                status=status,
                latency_ms=round(elapsed * 1000, 3),
            )


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title="kassa",
        version=__version__,
        summary="Smart Glocal-compatible payment-session gateway",
        description=(
            "Every method is `POST /api/v1/<method>` or `/api/v2/<method>` with a JSON body "
            "signed in `X-PARTNER-SIGN` (RSA-SHA256, PKCS#1 v1.5, base64, over the exact body "
            'bytes). Errors: `{"status":"error","error":{"code","description"}}`.'
        ),
        routes=app.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, model in app.state.request_schemas.items():
        body = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components[name] = body
    app.openapi_schema = schema
    return schema


async def kassa_error(request: Request, exc: Exception) -> Response:
    """A KassaError as its envelope and status."""
    if not isinstance(exc, KassaError):  # pragma: no cover - registered for KassaError
        raise exc
    request.scope["kassa.outcome"] = exc.code
    status, body = errors.render(exc)
    return Response(body, status, media_type="application/json", headers=errors.headers_of(exc))


async def http_error(request: Request, exc: Exception) -> Response:
    """Routing errors (unknown path, wrong HTTP method) in the same envelope."""
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover
        raise exc
    if exc.status_code == 404:  # noqa: PLR2004
        error: KassaError = MethodNotFound(f"unknown API method {request.url.path}")
    elif exc.status_code == 405:  # noqa: PLR2004
        error = InvalidRequest(f"{request.method} is not allowed on {request.url.path}")
    else:
        error = InvalidRequest(str(exc.detail))
    request.scope["kassa.outcome"] = error.code
    status, body = errors.render(error)
    return _json(exc.status_code if exc.status_code != 500 else status, body)  # noqa: PLR2004


def create_app(
    settings: Settings, deps: Deps | None = None, *, freeze_heap: bool = False
) -> KassaApp:
    """Build the app; without ``deps`` it opens the store from ``settings`` on start-up.

    ``freeze_heap`` (the served app): once started, everything alive is moved out of the
    garbage collector's reach (``gc.freeze``). Modules, the app, pools and caches live as
    long as the process; a full collection then walks only what requests made, so its
    pauses, which land in the latency tail, stay short (``docs/decisions.md``).
    """
    runtime = Runtime(settings, deps)
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        container = None
        if runtime.deps_or_none is None:
            container = await bootstrap.build(settings, probe=metrics)
            runtime.deps = container.deps
        worker = None
        if container is not None and settings.worker:  # in-process webhook delivery
            worker = await bootstrap.start_worker(
                settings, container, metrics.registry, getattr(_app.state, "delivery_metrics", None)
            )
            _app.state.delivery_metrics = worker.metrics
        if freeze_heap:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            if container is not None:
                await container.close()
                runtime.deps = None

    app = KassaApp(title="kassa", version=__version__, lifespan=lifespan)
    app.front = ProtocolPath(app.framework, runtime=runtime, metrics=metrics)
    app.state.request_schemas = {}
    app.state.runtime = runtime
    app.state.metrics = metrics
    app.add_middleware(EdgeMiddleware, metrics=metrics)

    app.add_exception_handler(KassaError, kassa_error)
    app.add_exception_handler(StarletteHTTPException, http_error)

    @app.get("/healthz", tags=["ops"], summary="Liveness and database check")
    async def healthz() -> dict[str, str]:
        await runtime.deps.store.get_project("")
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    session_routes.install(app, runtime)
    payment_routes.install(app, runtime)
    payout_routes.install(app, runtime)
    refund_routes.install(app, runtime)
    recurrent_routes.install(app, runtime)
    token_routes.install(app, runtime)
    three_ds_pages.install(app, runtime)
    widget_pages.install(app, runtime)
    demo_page.install(app, runtime)
    dashboard_pages.install(app, runtime)
    app.mount(pages.STATIC_PREFIX, pages.static_files(), name="static")
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def app_from_env() -> KassaApp:
    """Factory for uvicorn: settings from ``KASSA_*``, logging configured."""
    import os  # noqa: PLC0415

    from kassa.config import Settings  # noqa: PLC0415
    from kassa.logging import configure  # noqa: PLC0415

    settings = Settings.from_env(os.environ)
    configure(settings.log_level, json=settings.log_json)
    return create_app(settings, freeze_heap=True)
