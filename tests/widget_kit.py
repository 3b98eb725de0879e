"""Helpers of the widget tests: projects with widget origins, sessions, tokens, the forms.

Async helpers and the ``shop``/``pages`` fixtures for the HTTP tests (a module imports the
fixtures by name); ``SyncClient``, ``wait_until`` and ``run`` for the synchronous browser
tests (``run`` uses a worker thread, so it never meets Playwright's own event loop).
"""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import pytest

from kassa.adapters.clock import SystemClock
from kassa.adapters.db.driver import Stmt
from kassa.adapters.db.rows import to_us
from kassa.bootstrap import open_store
from kassa.domain.money import Money
from kassa.domain.project import ProjectSettings
from kassa.domain.public_token import hash_token
from kassa.service.projects import set_widget_origins
from kassa.service.wallet import topup
from testkit import SignedClient, create_project, encode, raw_driver, sign, table_counts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine

    from testkit import KassaServer, ProjectHandle

T = TypeVar("T")
CARD = "4242424242424242"
# Tables a refused card form must leave exactly as they were.
GUARDED = ("vault_cards", "sessions", "ledger_postings", "ledger_transactions", "outbox")
_FORM_TOKEN = re.compile(r'name="form_token" value="([0-9a-f]{64})"')
_NONCE = re.compile(r"'nonce-([^']+)'")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion in a fresh thread (safe beside Playwright's sync API)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def widget_project(
    database_url: str,
    origins: tuple[str, ...] = (),
    *,
    webhook_url: str | None = None,
    **settings: bool,
) -> ProjectHandle:
    """A project whose widgets ``origins`` may embed (through the service use case)."""
    handle = await create_project(
        database_url, webhook_url=webhook_url, settings=ProjectSettings(**settings)
    )
    if origins:
        store = await open_store(database_url)
        try:
            await set_widget_origins(store, handle.id, origins, allow_http=True)
        finally:
            await store.close()
    return handle


async def new_session(client: SignedClient, amount: int = 10000, **extra: Any) -> str:
    """A created session of ``amount`` USD cents for customer ``c-1``."""
    body = {
        "amount_details": {"amount": amount, "currency": "usd"},
        "customer": {"reference": "c-1"},
        **extra,
    }
    return str((await client.ok("session/create", body))["session"]["id"])


async def issue(client: SignedClient, body: dict[str, Any], **kw: Any) -> str:
    """``token`` and its public token."""
    return str((await client.ok("token", body, **kw))["public_token"])


async def pay_token(client: SignedClient, session_id: str, **widget: Any) -> str:
    """An acquiring widget token for the session."""
    return await issue(client, {"acquiring_widget": {"session_id": session_id, **widget}})


async def token_info(client: SignedClient, token: str) -> dict[str, Any]:
    """``token/info`` for a public token."""
    body = {"type": "public_token", "public_token": {"token": token}}
    found: dict[str, Any] = (await client.ok("token/info", body))["info"]
    return found


def form_token(html: str) -> str:
    """The CSRF form token a widget page carries."""
    found = _FORM_TOKEN.search(html)
    assert found is not None, html[:500]
    return found.group(1)


def nonce(csp: str) -> str:
    """The script nonce of a Content-Security-Policy header."""
    found = _NONCE.search(csp)
    assert found is not None, csp
    return found.group(1)


async def guarded_counts(database_url: str) -> dict[str, int]:
    """Row counts of the tables no refused form may touch."""
    counts = await table_counts(database_url)
    return {table: counts[table] for table in GUARDED}


async def fund(database_url: str, project_id: str, amount: int, currency: str = "usd") -> None:
    """Prefund the project's payout wallet (``kassa wallet topup``)."""
    store = await open_store(database_url)
    try:
        await topup(store, SystemClock(), project_id, Money(amount, currency))
    finally:
        await store.close()


async def expire(database_url: str, token: str) -> None:
    """Move the token's expiry one second into the past (as if 24 h had gone by)."""
    driver = await raw_driver(database_url)
    try:
        past = to_us(datetime.now(UTC) - timedelta(seconds=1))
        await driver.write(
            [
                Stmt(
                    "UPDATE public_tokens SET expires_at = ? WHERE token_hash = ?",
                    (past, hash_token(token)),
                    expect=1,
                ),
            ],
        )
    finally:
        await driver.close()


class SyncClient:
    """A synchronous signing client for the browser tests (Playwright's sync API owns a loop)."""

    def __init__(self, base_url: str, project: ProjectHandle) -> None:
        """Talk to ``base_url`` as ``project``."""
        self.project = project
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def ok(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``/api/v1/<method>`` signed; assert ``status: ok``; return the body."""
        raw = encode(body)
        response = self.http.post(
            f"/api/v1/{method}",
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-PARTNER-PROJECT": self.project.id,
                "X-PARTNER-SIGN": sign(raw, self.project.key),
            },
        )
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        assert data["status"] == "ok", data
        return data

    def session(self, amount: int = 10000) -> str:
        """A created session of ``amount`` USD cents."""
        body = {
            "amount_details": {"amount": amount, "currency": "usd"},
            "customer": {"reference": "c-1"},
        }
        return str(self.ok("session/create", body)["session"]["id"])

    def token(self, body: dict[str, Any]) -> str:
        """A public token."""
        return str(self.ok("token", body)["public_token"])

    def status(self, session_id: str) -> dict[str, Any]:
        """``session/status``'s session."""
        found: dict[str, Any] = self.ok("session/status", {"session_id": session_id})["session"]
        return found

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll a synchronous predicate until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    msg = "condition not met in time"
    raise AssertionError(msg)


SHOP = "https://shop.example"
TOKENIZE = {"tokenize_widget": {"access": True}}


@pytest.fixture
async def shop(server: KassaServer) -> AsyncIterator[SignedClient]:
    """A signing client of a project whose widgets ``https://shop.example`` may embed."""
    handle = await widget_project(server.database_url, (SHOP,))
    client = SignedClient(server.base_url, handle)
    yield client
    await client.aclose()


@pytest.fixture
async def pages(server: KassaServer) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-less client for the widget pages (redirects not followed)."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        yield http


async def open_form(pages: httpx.AsyncClient, path: str, token: str) -> dict[str, str]:
    """GET a widget page; the hidden fields its form posts."""
    page = await pages.get(path, params={"public_token": token})
    assert page.status_code == 200, page.text
    return {"public_token": token, "form_token": form_token(page.text)}


def card_form(**changes: str) -> dict[str, str]:
    """A valid card form (plus ``changes``)."""
    return {
        "number": "4242 4242 4242 4242",
        "expiry": "12/39",
        "cvc": "737",
        "cardholder_name": "Helen Adams",
        **changes,
    }


def field_errors(html: str) -> dict[str, str]:
    """Each field's error text on a re-shown form (empty ones left out)."""
    found = re.findall(r'<p class="field-error" id="([a-z_]+)-error"[^>]*>([^<]*)</p>', html)
    return {name: text for name, text in found if text}
