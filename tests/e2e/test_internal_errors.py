"""No stack trace ever reaches the wire: a store that raises gives a bare ``internal_error``.

Most tests build the app in-process with ``create_app(settings, deps)`` over the in-memory fakes
and drive it with httpx's ASGI transport; the last one breaks the database under a real
``kassa serve`` subprocess, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import orjson
import pytest

from kassa.adapters.db.driver import Stmt
from kassa.adapters.keys import public_pem
from kassa.api.app import create_app
from kassa.config import Settings
from kassa.domain.project import Project
from kassa.testing import (
    EPOCH_OF_TESTS,
    InMemoryStore,
    InMemoryUnitOfWork,
    StoredKey,
    fake_deps,
)
from testkit import (
    KEYS,
    KassaServer,
    SignedClient,
    create_project,
    load_private,
    raw_driver,
    sign,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

SECRET = "database exploded at /srv/kassa/store.py line 42 with card 4242424242424242"
INTERNAL = {
    "status": "error",
    "error": {"code": "internal_error", "description": "internal error, retry later"},
}


class Explodes(RuntimeError):
    """What the broken store raises."""


class BrokenUnitOfWork(InMemoryUnitOfWork):
    """A unit of work whose commit fails."""

    async def commit(self) -> None:
        """Fail like a lost database connection."""
        raise Explodes(SECRET)


class BrokenStore(InMemoryStore):
    """An in-memory store that raises from the operations named in ``broken``."""

    def __init__(self, *broken: str) -> None:
        """Break ``broken`` (``get_session``, ``commit``, ``get_project``)."""
        super().__init__()
        self.broken = set(broken)

    async def get_project(self, project_id: str) -> Project | None:
        """Maybe fail, else the real lookup."""
        if "get_project" in self.broken:
            raise Explodes(SECRET)
        return await super().get_project(project_id)

    async def get_session(self, project_id: str, session_id: str) -> Any:
        """Maybe fail, else the real lookup."""
        if "get_session" in self.broken:
            raise Explodes(SECRET)
        return await super().get_session(project_id, session_id)

    def unit_of_work(self) -> InMemoryUnitOfWork:
        """A unit of work that fails on commit when ``commit`` is broken."""
        if "commit" in self.broken:
            return BrokenUnitOfWork(self)
        return super().unit_of_work()


KEY = load_private(KEYS / "test_partner_private.pem")


@pytest.fixture
def store() -> BrokenStore:
    """A fake store holding one project with the committed test key."""
    broken = BrokenStore()
    project = Project("pj_test", "shop", (public_pem(KEY),), EPOCH_OF_TESTS)
    broken.state.projects[project.id] = project
    broken.state.keys[project.id] = [StoredKey(pem, EPOCH_OF_TESTS) for pem in project.public_keys]
    return broken


@pytest.fixture
async def http(store: BrokenStore) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the app in-process."""
    settings = Settings.from_env({"KASSA_PROJECT_CACHE_SECONDS": "0"})
    app = create_app(settings, fake_deps(store=store))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kassa.test") as client:
        yield client


async def post(
    http: httpx.AsyncClient, method: str, body: dict[str, Any], **headers: str
) -> httpx.Response:
    """A signed POST as project ``pj_test``."""
    raw = orjson.dumps(body)
    sent = {"X-PARTNER-PROJECT": "pj_test", "X-PARTNER-SIGN": sign(raw, KEY), **headers}
    return await http.post(f"/api/v1/{method}", content=raw, headers=sent)


def assert_bare_internal_error(response: httpx.Response) -> None:
    """500 with the fixed envelope: no trace, no exception text, no card number."""
    assert response.status_code == 500
    assert response.json() == INTERNAL
    for leak in ("Traceback", "Explodes", "exploded", "store.py", "4242424242424242"):
        assert leak not in response.text


async def test_the_in_process_app_works_before_anything_breaks(http):
    """The same wiring answers normally while the store is healthy (the test can fail)."""
    created = await post(
        http, "session/create", {"amount_details": {"amount": 1, "currency": "usd"}}
    )
    assert created.status_code == 200, created.text
    session_id = created.json()["session"]["id"]
    status = await post(http, "session/status", {"session_id": session_id})
    assert status.json()["session"] == created.json()["session"]


async def test_failing_read_answers_a_bare_internal_error(http, store):
    """A store read that raises inside ``session/status`` becomes 500 ``internal_error``."""
    store.broken.add("get_session")
    assert_bare_internal_error(await post(http, "session/status", {"session_id": "ps_1"}))


async def test_failing_commit_answers_a_bare_internal_error(http, store):
    """A commit that raises inside ``session/create`` becomes 500 ``internal_error``."""
    store.broken.add("commit")
    assert_bare_internal_error(await post(http, "session/create", {"metadata": "x"}))
    assert store.state.sessions == {}


async def test_failing_authentication_lookup_answers_a_bare_internal_error(http, store):
    """Even the project lookup failing gives the envelope, not a framework error page."""
    store.broken.add("get_project")
    assert_bare_internal_error(await post(http, "session/create", {}))


async def test_failing_health_check_answers_a_bare_internal_error(http, store):
    """``/healthz`` with a broken database is a 500 envelope too."""
    store.broken.add("get_project")
    assert_bare_internal_error(await http.get("/healthz"))


async def test_internal_error_releases_the_idempotency_key(http, store):
    """A crashed request is not replayed: once the store heals, the same key runs again."""
    store.broken.add("commit")
    body = {"metadata": "retry-me"}
    assert_bare_internal_error(
        await post(http, "session/create", body, **{"X-PARTNER-IDEMPOTENCY-KEY": "k1"})
    )
    store.broken.clear()
    retried = await post(http, "session/create", body, **{"X-PARTNER-IDEMPOTENCY-KEY": "k1"})
    assert retried.status_code == 200, retried.text
    assert len(store.state.sessions) == 1


async def test_real_server_with_a_broken_database_answers_a_bare_internal_error(
    database_url, tmp_path
):
    """A real ``kassa serve`` whose sessions table vanished: 500 envelope, the trace only logged."""
    server = KassaServer(database_url, tmp_path).start()
    try:
        project = await create_project(database_url)
        client = SignedClient(server.base_url, project)
        try:
            body = {"metadata": "card 4242424242424242"}
            await client.ok("session/create", body)
            driver = await raw_driver(database_url)
            try:
                cascade = "" if driver.dialect == "sqlite" else " CASCADE"
                await driver.write([Stmt(f"DROP TABLE sessions{cascade}")])
            finally:
                await driver.close()
            for method, sent in (
                ("session/create", body),
                ("session/status", {"session_id": "ps_" + "0" * 26}),
            ):
                response = await client.post(method, sent)
                assert_bare_internal_error(response)
                assert "sessions" not in response.text
                assert "sqlite" not in response.text.lower()
                assert "asyncpg" not in response.text.lower()
        finally:
            await client.aclose()
    finally:
        server.stop()
    log = server.log()
    assert "unhandled_error" in log
    assert "4242424242424242" not in log
