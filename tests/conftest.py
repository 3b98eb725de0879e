"""Fixtures: databases (SQLite and a per-test PostgreSQL database), stores, servers.

PostgreSQL comes from ``KASSA_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``). Each test gets its own database cloned from a
migrated template, so tests never see each other's rows and servers in subprocesses can share
it. With ``CI=true`` an unreachable PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from typing import TYPE_CHECKING

import asyncpg
import pytest

from kassa.adapters.db.migrate import upgrade
from kassa.bootstrap import open_store
from testkit import KassaServer, ProjectHandle, SignedClient, create_project
from webhook_receiver import Receiver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from kassa.adapters.db.store import SqlStore

PG_URL = os.environ.get("KASSA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _with_db(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_reachable() -> str | None:
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated template database for this test session."""
    problem = _pg_reachable()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {PG_URL} is unreachable in CI: {problem}")
        pytest.skip(f"PostgreSQL unreachable ({problem}); set KASSA_TEST_POSTGRES_URL")
    name = f"kassa_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    upgrade(_with_db(PG_URL, name))
    yield name
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh migrated PostgreSQL database for one test."""
    name = f"kassa_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield _with_db(PG_URL, name)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file to copy per test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "kassa.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh migrated SQLite database for one test."""
    path = tmp_path / "kassa.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all (for migration tests), on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    request.getfixturevalue("pg_template")  # reachability check: skip locally, fail in CI
    name = f"kassa_e_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    yield _with_db(PG_URL, name)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def module_database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A migrated database shared by one test module, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("module-db") / "kassa.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"kassa_m_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _with_db(PG_URL, name)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def server(
    module_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[KassaServer]:
    """One real ``kassa serve`` per test module and database; tests create their own projects."""
    running = KassaServer(module_database_url, tmp_path_factory.mktemp("server")).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def project(server: KassaServer) -> ProjectHandle:
    """A fresh project on the module's server."""
    return await create_project(server.database_url)


@pytest.fixture
async def client(server: KassaServer, project: ProjectHandle) -> AsyncIterator[SignedClient]:
    """A signing client for the project."""
    signed = SignedClient(server.base_url, project)
    yield signed
    await signed.aclose()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    """An open store over the test's database."""
    opened = await open_store(database_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """A real webhook receiver on 127.0.0.1, one per module (kits may bring their own)."""
    running = Receiver()
    yield running
    running.stop()
