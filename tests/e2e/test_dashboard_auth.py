"""Dashboard log-in over HTTP on SQLite and PostgreSQL: password, rate limit, cookie, CSRF.

One ``kassa serve`` per database with a 1-second log-in window, so the rate-limit test can
wait it out. Every form of the dashboard is posted without and with a wrong token: 403, and
the audit log shows nothing was done.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from dashboard_kit import DashboardClient, csrf_of, password_of
from kassa.service.admin import token_hash, verify_password
from testkit import KassaServer, create_project, raw_driver, table_rows

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

WINDOW = 1.0
FORMS = {
    "confirm": {"session_id": "ps_x"},
    "cancel": {"session_id": "ps_x"},
    "capture": {"session_id": "ps_x", "amount": "100"},
    "refund": {"session_id": "ps_x", "amount": "100"},
    "replay": {"delivery_id": "1"},
    "topup": {"amount": "1000", "currency": "usd"},
    "create_project": {"name": "forged", "public_key_pem": "x"},
    "add_key": {"public_key_pem": "x"},
    "webhook": {"webhook_url": "http://127.0.0.1:1/h"},
    "origins": {"origins": "https://shop.example"},
    "settings": {"auto_confirm": "1"},
}


@pytest.fixture(scope="module")
def auth_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KassaServer]:
    """A server whose failed log-ins are counted over 1 second."""
    running = KassaServer(
        module_database_url,
        tmp_path_factory.mktemp("dash-auth"),
        KASSA_DASHBOARD_LOGIN_WINDOW_SECONDS=str(WINDOW),
    ).start()
    yield running
    running.stop()


@pytest.fixture
async def dash(auth_server: KassaServer) -> AsyncIterator[DashboardClient]:
    """A logged-in client."""
    client = DashboardClient(auth_server)
    done = await client.login()
    assert done.status_code == 303, done.text
    yield client
    await client.aclose()


async def test_password_is_stored_only_as_a_scrypt_hash(auth_server: KassaServer) -> None:
    """The printed password verifies against the stored hash; the clear text is nowhere."""
    password = password_of(auth_server)
    rows = (await table_rows(auth_server.database_url))["admin_users"]
    [(user, stored, *_)] = rows
    assert user == "admin"
    assert stored.startswith("scrypt$")
    assert password not in stored
    assert verify_password(password, stored)
    assert not verify_password(password + "x", stored)


async def test_wrong_password_is_refused_and_right_one_sets_a_strict_cookie(
    auth_server: KassaServer,
) -> None:
    """401 and no cookie for a wrong password; the right one: HttpOnly, SameSite=Strict."""
    await asyncio.sleep(WINDOW)  # no failures left over from another test
    client = DashboardClient(auth_server)
    try:
        wrong = await client.login("not-the-password")
        assert wrong.status_code == 401
        assert "Wrong password" in wrong.text
        assert "kassa_admin" not in client.http.cookies
        assert (await client.get("/dashboard")).status_code == 303
        right = await client.login()
        assert right.status_code == 303
        cookie = right.headers["set-cookie"]
        assert "kassa_admin=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
        assert "Path=/dashboard" in cookie
        assert "Secure" not in cookie  # plain HTTP here
        page = await client.get("/dashboard")
        assert page.status_code == 200
        assert "Overview" in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'nonce-" in csp
        assert "frame-ancestors 'none'" in csp
    finally:
        await client.aclose()


async def test_log_ins_are_rate_limited_per_address(auth_server: KassaServer) -> None:
    """After 5 wrong passwords the 6th try (even the right one) is 429; later it works."""
    await asyncio.sleep(WINDOW)
    client = DashboardClient(auth_server)
    try:
        statuses = [(await client.login("wrong")).status_code for _ in range(5)]
        assert statuses == [401] * 5
        blocked = await client.login()
        assert blocked.status_code == 429
        assert "Too many failed log-ins" in blocked.text
        await asyncio.sleep(WINDOW + 0.2)
        assert (await client.login()).status_code == 303
    finally:
        await client.aclose()


async def test_login_form_without_its_token_is_refused(auth_server: KassaServer) -> None:
    """A login post with no or a forged token: 403, even with the right password."""
    client = DashboardClient(auth_server)
    try:
        await client.get("/dashboard/login")
        for token in ("", "abc.def"):
            done = await client.http.post(
                "/dashboard/login", data={"csrf": token, "password": password_of(auth_server)}
            )
            assert done.status_code == 403
            assert "kassa_admin" not in client.http.cookies
    finally:
        await client.aclose()


async def test_forged_cookie_sees_only_the_login_page(auth_server: KassaServer) -> None:
    """A made-up cookie: every page and form redirects to the login page; nothing is done."""
    client = DashboardClient(auth_server)
    try:
        client.http.cookies.set("kassa_admin", "forged-token-value", path="/dashboard")
        for path in ("/dashboard", "/dashboard/sessions", "/dashboard/audit"):
            page = await client.get(path)
            assert page.status_code == 303
            assert page.headers["location"].startswith("/dashboard/login")
        done = await client.http.post(
            "/dashboard/act/create_project",
            data={"csrf": "x.y", "confirmed": "yes", "name": "forged", "public_key_pem": "x"},
        )
        assert done.status_code == 303
        assert done.headers["location"].startswith("/dashboard/login")
    finally:
        await client.aclose()


async def test_expired_session_goes_back_to_login(dash: DashboardClient) -> None:
    """A log-in past its idle expiry is ended: the next page is the login page."""
    assert (await dash.get("/dashboard")).status_code == 200
    driver = await raw_driver(dash.server.database_url)
    try:
        from kassa.adapters.db.driver import Stmt

        await driver.write([Stmt("UPDATE admin_sessions SET expires_at = 0")])
    finally:
        await driver.close()
    page = await dash.get("/dashboard/sessions")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/dashboard/login")
    rows = (await table_rows(dash.server.database_url))["admin_sessions"]
    mine = token_hash(dash.http.cookies["kassa_admin"])
    assert [r for r in rows if r[0] == mine] == []  # the expired log-in was deleted


async def test_logout_ends_the_session(dash: DashboardClient) -> None:
    """Logout (with its token) ends the log-in; the old cookie no longer works."""
    cookie = dash.http.cookies["kassa_admin"]
    done = await dash.http.post("/dashboard/logout", data={"csrf": await dash.token()})
    assert done.status_code == 303
    dash.http.cookies.set("kassa_admin", cookie, path="/dashboard")
    assert (await dash.get("/dashboard")).status_code == 303


@pytest.mark.parametrize("action", sorted(FORMS))
async def test_every_form_needs_its_token(dash: DashboardClient, action: str) -> None:
    """No token, a garbled one, or one from another log-in: 403 and no audit row."""
    project = await create_project(dash.server.database_url)
    fields = {"project_id": project.id, "confirmed": "yes", **FORMS[action]}
    other = DashboardClient(dash.server)
    try:
        assert (await other.login()).status_code == 303
        foreign = await other.token()
    finally:
        await other.aclose()
    for token in (None, "", "garbled", foreign):
        data = fields if token is None else {**fields, "csrf": token}
        done = await dash.http.post(f"/dashboard/act/{action}", data=data)
        assert done.status_code == 403, (token, done.text[:300])
        assert "security token" in done.text
    audit = (await table_rows(dash.server.database_url))["audit_log"]
    assert [row for row in audit if row[4] == action and row[5] == project.id] == []


async def test_logout_form_needs_its_token(dash: DashboardClient) -> None:
    """Logout without a token is refused (403) and the log-in stays."""
    done = await dash.http.post("/dashboard/logout", data={})
    assert done.status_code == 403
    assert (await dash.get("/dashboard")).status_code == 200
    assert csrf_of((await dash.get("/dashboard")).text)
