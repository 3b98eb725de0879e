"""Fixtures and helpers of the card-acquiring end-to-end tests (real servers, real receiver).

A test module imports the fixtures it uses by name. Per module and database: one webhook
receiver, one ``kassa serve`` with default timeouts and, when a test asks for ``hurried=True``,
a second server on the same database with 2-second timeouts. Every ``open_shop`` test ends
with ``kassa ledger check`` run as the CLI against that database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import httpx
import pytest

from kassa.adapters.keys import ServerKey, verify_any
from kassa.domain.project import ProjectSettings
from testkit import KassaServer, SignedClient, create_project, wait_for
from webhook_receiver import Receiver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

TIMEOUT = "2"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """One webhook receiver per module."""
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def server_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keys shared by the module's servers (one deployment: one server key, one vault key)."""
    return tmp_path_factory.mktemp("acquiring")


@pytest.fixture(scope="module")
def acquiring_server(module_database_url: str, server_dir: Path) -> Iterator[KassaServer]:
    """A real server with the default timeouts."""
    running = KassaServer(
        module_database_url,
        server_dir,
        KASSA_WORKER_POLL_SECONDS="0.05",
    ).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def hurried_server(module_database_url: str, server_dir: Path) -> Iterator[KassaServer]:
    """A second server on the same database with 2-second confirm, 3DS and hold timeouts."""
    running = KassaServer(
        module_database_url,
        server_dir,
        KASSA_CONFIRM_TIMEOUT_SECONDS=TIMEOUT,
        KASSA_ACTION_TIMEOUT_SECONDS=TIMEOUT,
        KASSA_HOLD_TIMEOUT_SECONDS=TIMEOUT,
        KASSA_WORKER_POLL_SECONDS="0.05",
    ).start()
    yield running
    running.stop()


def ledger_check(server: KassaServer) -> None:
    """``kassa ledger check`` against the server's database must pass."""
    env = {**os.environ, "KASSA_DATABASE_URL": server.database_url}
    done = subprocess.run(
        [sys.executable, "-m", "kassa", "ledger", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout


class Shop:
    """A project on the shared server, with its client and webhook tag."""

    def __init__(self, server: KassaServer, receiver: Receiver, client: SignedClient) -> None:
        """Bundle the pieces."""
        self.server = server
        self.receiver = receiver
        self.client = client

    async def ok(self, method: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """A signed call that must succeed."""
        return await self.client.ok(method, body, **kw)

    async def error(self, method: str, body: dict[str, Any], status: int, code: str) -> None:
        """A signed call that must fail with ``status`` and ``code``."""
        response = await self.client.post(method, body)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code

    async def webhooks(self, session_id: str, *types: str) -> list[dict[str, Any]]:
        """Wait until the session's webhooks start with ``types``; verify signatures."""
        await wait_for(lambda: self.receiver.types(session_id)[: len(types)] == list(types), 15)
        got = self.receiver.for_session(session_id)
        pem = ServerKey(self.server.data_dir / "keys" / "server_private.pem").public_pem
        for item in got:
            assert item.signature is not None
            assert verify_any(item.body, item.signature, [pem])
        return [r.json for r in got]


@pytest.fixture
async def open_shop(
    acquiring_server: KassaServer, receiver: Receiver, request: pytest.FixtureRequest
) -> AsyncIterator[Any]:
    """Factory: a project with the given settings, its webhooks going to the receiver.

    ``hurried=True`` talks to the server with 2-second timeouts instead.
    """
    clients: list[SignedClient] = []

    async def factory(*, hurried: bool = False, **settings: Any) -> Shop:
        server = request.getfixturevalue("hurried_server") if hurried else acquiring_server
        project = await create_project(
            server.database_url,
            webhook_url=receiver.url(uuid.uuid4().hex),
            settings=ProjectSettings(**settings),
        )
        client = SignedClient(server.base_url, project)
        clients.append(client)
        return Shop(server, receiver, client)

    yield factory
    for client in clients:
        await client.aclose()
    ledger_check(acquiring_server)


class _Form(HTMLParser):
    """The first form of a page: action, method, hidden inputs and submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.method = "get"
        self.hidden: dict[str, str] = {}
        self.buttons: dict[str, tuple[str, str]] = {}  # label → (name, value)
        self._button: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action, self.method = a.get("action", ""), a.get("method", "get").lower()
        elif tag == "input" and a.get("type") == "hidden":
            self.hidden[a["name"]] = a.get("value", "")
        elif tag == "button" and a.get("type", "submit") == "submit":
            self._button = (a.get("name", ""), a.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._button is not None and data.strip():
            self.buttons[data.strip()] = self._button

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._button = None


async def press_on_3ds_page(redirect: dict[str, Any], label: str) -> httpx.Response:
    """Do what a person in a browser does: open the redirect, press the button ``label``.

    The page is read as HTML: the form's action, method, hidden fields and the button's
    name/value are taken from it, so a page that is not a usable form fails here.
    """
    async with httpx.AsyncClient() as browser:
        url = redirect["base_url"]
        if redirect.get("method", "GET").upper() == "GET":
            page = await browser.get(url, params=redirect.get("qs", {}))
        else:  # pragma: no cover - kassa redirects with GET
            page = await browser.post(url, data=redirect.get("params", {}))
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        form = _Form()
        form.feed(page.text)
        assert form.action is not None, page.text
        assert form.method == "post"
        name, value = form.buttons[label]
        return await browser.post(
            urljoin(str(page.url), form.action), data={**form.hidden, name: value}
        )
