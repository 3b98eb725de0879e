"""Kit of the kassa-client end-to-end tests: a real server, a receiver, both clients.

The receiver is a merchant's webhook endpoint verifying with ``verify_and_parse``.

``Api`` runs the same test code on ``Client`` (in a thread, as a sync app would) and
``AsyncClient``, in API v1 or v2.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import BaseModel

from kassa.adapters.keys import ServerKey
from kassa.domain.project import ProjectSettings
from kassa_client import (
    AsyncClient,
    Client,
    Deduplicator,
    SignatureError,
    WebhookEvent,
    WebhookType,
    verify_and_parse,
)
from testkit import KassaServer, create_project

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator


@dataclass
class Delivery:
    """One webhook as the receiver got it, and what verification made of it."""

    body: bytes
    signature: str | None
    event: WebhookEvent | None
    problem: str | None


@dataclass
class MerchantReceiver:
    """A merchant's webhook endpoint: verify, parse, deduplicate, answer 200 (401 if forged)."""

    server_public_pem: str
    deliveries: list[Delivery] = field(default_factory=list)
    handled: list[WebhookEvent] = field(default_factory=list)
    dedup: Deduplicator = field(default_factory=Deduplicator)

    def __post_init__(self) -> None:
        """Listen on a free loopback port."""
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver.receive(body, self.headers.get("X-PARTNER-SIGN"))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.http.server_address[1]
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def receive(self, body: bytes, signature: str | None) -> int:
        """What the merchant's handler does with one delivery; returns the HTTP status."""
        try:
            event = verify_and_parse(body, signature, self.server_public_pem)
        except SignatureError as exc:
            with self._lock:
                self.deliveries.append(Delivery(body, signature, None, str(exc)))
            return 401
        with self._lock:
            self.deliveries.append(Delivery(body, signature, event, None))
            if self.dedup.first_time(event):
                self.handled.append(event)
        return 200

    def url(self, tag: str) -> str:
        """A webhook URL for one project."""
        return f"http://127.0.0.1:{self.port}/{tag}"

    def events(self, session_id: str) -> list[WebhookEvent]:
        """Handled events of one session, in arrival order."""
        with self._lock:
            return [e for e in self.handled if e.session.id == session_id]

    def raw(self, session_id: str) -> list[Delivery]:
        """Every delivery of one session."""
        with self._lock:
            items = list(self.deliveries)
        return [d for d in items if d.event is not None and d.event.session.id == session_id]

    async def wait(
        self,
        session_id: str,
        kind: WebhookType,
        timeout: float = 20.0,
        where: Callable[[WebhookEvent], bool] | None = None,
    ) -> WebhookEvent:
        """The first handled ``kind`` event of the session (that ``where`` accepts), waiting."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events(session_id):
                if event.type is kind and (where is None or where(event)):
                    return event
            await asyncio.sleep(0.05)
        seen = [e.type.value for e in self.events(session_id)]
        msg = f"no {kind.value} webhook for {session_id}; got {seen}"
        raise AssertionError(msg)

    def stop(self) -> None:
        """Shut the endpoint down."""
        self.http.shutdown()
        self.http.server_close()


class Api:
    """One facade over ``Client`` and ``AsyncClient``: ``await api("refund", sid, …)``."""

    def __init__(self, client: Client | AsyncClient, server: KassaServer, project_id: str) -> None:
        self.client = client
        self.server = server
        self.project_id = project_id
        self.version = client.api_version

    async def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call SDK method ``name`` on whichever client this is."""
        method = getattr(self.client, name)
        if isinstance(self.client, AsyncClient):
            return await method(*args, **kwargs)
        return await asyncio.to_thread(method, *args, **kwargs)

    async def close(self) -> None:
        """Close the client's pool."""
        if isinstance(self.client, AsyncClient):
            await self.client.aclose()
        else:
            self.client.close()


def server_public_pem(server: KassaServer) -> str:
    """The PEM that verifies the server's webhooks (what ``kassa server-key`` prints)."""
    return ServerKey(server.data_dir / "keys" / "server_private.pem").public_pem


@pytest.fixture(scope="module")
def sdk_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KassaServer]:
    """A real ``kassa serve`` (with its worker) per module and database."""
    running = KassaServer(
        module_database_url,
        tmp_path_factory.mktemp("sdk-server"),
        KASSA_WORKER_POLL_SECONDS="0.05",
    ).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def merchant(sdk_server: KassaServer) -> Iterator[MerchantReceiver]:
    """The merchant's webhook endpoint, verifying with the server's public key."""
    running = MerchantReceiver(server_public_pem(sdk_server))
    yield running
    running.stop()


def make_client(
    kind: str, base_url: str, project_id: str, key: Any, version: str, **kw: Any
) -> Client | AsyncClient:
    """A ``Client`` or ``AsyncClient``."""
    cls = Client if kind == "sync" else AsyncClient
    return cls(base_url, project_id, key, api_version=version, **kw)


@pytest.fixture(params=["sync-v1", "sync-v2", "async-v1", "async-v2"])
async def open_api(
    request: pytest.FixtureRequest, sdk_server: KassaServer, merchant: MerchantReceiver
) -> AsyncIterator[Any]:
    """Factory: a fresh project (webhooks to ``merchant``) and an ``Api`` for it."""
    kind, version = str(request.param).split("-")
    made: list[Api] = []

    async def factory(**settings: Any) -> Api:
        project = await create_project(
            sdk_server.database_url,
            webhook_url=merchant.url(uuid.uuid4().hex),
            settings=ProjectSettings(**settings),
        )
        client = make_client(kind, sdk_server.base_url, project.id, project.key, version)
        api = Api(client, sdk_server, project.id)
        made.append(api)
        return api

    yield factory
    for api in made:
        await api.close()


def unmodelled(model: Any, path: str = "") -> list[str]:
    """Where a parsed answer holds fields its models do not declare (kept in ``model_extra``).

    The system object of a bank account or e-wallet (``bank_account.global``) is the one
    expected extra: its name is the value of ``system_type`` / ``type``.
    """
    if isinstance(model, list):
        return [p for i, item in enumerate(model) for p in unmodelled(item, f"{path}[{i}]")]
    if isinstance(model, dict):
        return [p for k, v in model.items() for p in unmodelled(v, f"{path}.{k}")]
    if not isinstance(model, BaseModel):
        return []
    named = (
        {getattr(model, n, None) for n in ("system_type", "type")} if model.model_extra else set()
    )
    found = [f"{path}.{k}" for k in (model.model_extra or {}) if k not in named]
    for name in type(model).model_fields:
        found += unmodelled(getattr(model, name), f"{path}.{name}")
    return found
