"""Helpers of the dashboard tests: a logged-in HTTP client that reads form tokens from pages.

``DashboardClient.act`` does what an operator does: post the form (with the page's token),
get the confirmation page, post its form with ``confirmed=yes``. The password is the one the
server printed on its first start (``dashboard_password`` in its log).
"""

from __future__ import annotations

import html as html_lib
import re
from typing import TYPE_CHECKING, Any

import httpx

from acquiring_kit import card
from testkit import SignedClient, create_project

if TYPE_CHECKING:
    from kassa.domain.project import ProjectSettings
    from testkit import KassaServer, ProjectHandle

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
HIDDEN_AREA = r'<textarea hidden name="([^"]+)" aria-hidden="true">(.*?)</textarea>'
PASSWORD = re.compile(r'dashboard_password(?:\s+|":")([^"\s]+)')  # text block or JSON line


def password_of(server: KassaServer) -> str:
    """The admin password the server printed on its first start."""
    found = PASSWORD.search(server.log())
    assert found, server.log()[-2000:]
    return found[1]


def csrf_of(html: str) -> str:
    """The first form token on a page."""
    found = CSRF.search(html)
    assert found, html[:2000]
    return found[1]


class DashboardClient:
    """One browser-like client: its own cookie jar, no redirects followed."""

    def __init__(self, server: KassaServer) -> None:
        """A client for ``server``'s dashboard (not logged in yet)."""
        self.server = server
        self.http = httpx.AsyncClient(base_url=server.base_url, timeout=30)

    async def login(self, password: str | None = None) -> httpx.Response:
        """Open the login page and post the password (the server's own by default)."""
        page = await self.http.get("/dashboard/login")
        return await self.http.post(
            "/dashboard/login",
            data={
                "csrf": csrf_of(page.text),
                "password": password if password is not None else password_of(self.server),
                "next": "/dashboard",
            },
        )

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        """GET a dashboard path."""
        return await self.http.get(path, **kw)

    async def token(self, path: str = "/dashboard") -> str:
        """A fresh form token from a page."""
        page = await self.http.get(path)
        assert page.status_code == 200, page.text[:500]
        return csrf_of(page.text)

    async def confirm_page(
        self,
        action: str,
        fields: dict[str, str],
        files: Any = None,
    ) -> httpx.Response:
        """The first post of an action's form: its confirmation page."""
        data = {"csrf": await self.token(), **fields}
        return await self.http.post(f"/dashboard/act/{action}", data=data, files=files)

    async def act(
        self,
        action: str,
        fields: dict[str, str],
        files: Any = None,
    ) -> httpx.Response:
        """Post the form, then confirm: the response of the acting post."""
        page = await self.confirm_page(action, fields, files)
        assert page.status_code == 200, page.text[:1000]
        confirm = confirmed_form(page.text)
        return await self.http.post(f"/dashboard/act/{action}", data=confirm)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()


def confirmed_form(html: str) -> dict[str, str]:
    """The hidden fields of a confirmation page's form (inputs and hidden textareas)."""
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    fields.update(dict(re.findall(HIDDEN_AREA, html, re.DOTALL)))
    return {k: html_lib.unescape(v) for k, v in fields.items()}


async def paid_session(
    server: KassaServer,
    *,
    webhook_url: str | None = None,
    number: str = "4242424242424242",
    metadata: str | None = None,
    reference: str = "cust-1",
    settings: ProjectSettings | None = None,
    confirm: bool = True,
) -> tuple[ProjectHandle, str]:
    """A project and a card payment of 100.00 USD on it, confirmed unless ``confirm=False``."""
    project = await create_project(server.database_url, webhook_url=webhook_url, settings=settings)
    client = SignedClient(server.base_url, project)
    try:
        body: dict[str, Any] = {
            "payment_details": card(number),
            "amount_details": {"amount": 10000, "currency": "usd"},
            "customer": {"reference": reference},
        }
        if metadata is not None:
            body["metadata"] = metadata
        created = await client.ok("session/init/payment", body)
        sid = created["session"]["id"]
        if confirm:
            await client.ok("session/confirm", {"session_id": sid})
    finally:
        await client.aclose()
    return project, sid


async def session_status_ok(server: KassaServer, project: ProjectHandle) -> bool:
    """A signed ``session/create`` of the project succeeds (its key is accepted)."""
    client = SignedClient(server.base_url, project)
    try:
        reply = await client.post(
            "session/create", {"amount_details": {"amount": 100, "currency": "usd"}}
        )
    finally:
        await client.aclose()
    return reply.status_code == 200
