"""Shared test helpers: signing client, a real kassa server process, project set-up."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kassa.adapters.db.driver import Stmt
from kassa.adapters.db.postgres import PostgresDriver
from kassa.adapters.db.sqlite import SqliteDriver
from kassa.adapters.keys import generate_private_key, public_pem
from kassa.bench.scratch import free_port
from kassa.bootstrap import open_store, sqlite_path
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.project import Project, ProjectSettings

if TYPE_CHECKING:
    from kassa.adapters.db.driver import Driver

TESTS = Path(__file__).parent
KEYS = TESTS / "keys"


def load_private(path: Path) -> rsa.RSAPrivateKey:
    """Load a test private key PEM."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def sign(body: bytes, key: rsa.RSAPrivateKey) -> str:
    """X-PARTNER-SIGN of ``body``."""
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


@dataclass
class ProjectHandle:
    """A project created for a test, with its partner private key."""

    id: str
    key: rsa.RSAPrivateKey


async def create_project(
    database_url: str,
    *,
    name: str = "shop",
    webhook_url: str | None = None,
    settings: ProjectSettings | None = None,
    key: rsa.RSAPrivateKey | None = None,
) -> ProjectHandle:
    """Insert a project straight into the database (the CLI path has its own tests)."""
    key = key or generate_private_key()
    project = Project(
        id=new_id(IdPrefix.PROJECT),
        name=name,
        public_keys=(public_pem(key),),
        created_at=datetime.now(UTC),
        webhook_url=webhook_url,
        settings=settings or ProjectSettings(),
    )
    store = await open_store(database_url)
    try:
        await store.add_project(project)
    finally:
        await store.close()
    return ProjectHandle(project.id, key)


def encode(body: dict[str, Any] | list[Any] | bytes) -> bytes:
    """Request bytes: given bytes as they are, else compact JSON."""
    return body if isinstance(body, bytes) else orjson.dumps(body)


class SignedClient:
    """Posts signed requests the way a merchant's integration does."""

    def __init__(self, base_url: str, project: ProjectHandle) -> None:
        """Talk to ``base_url`` as ``project``."""
        self.base_url = base_url
        self.project = project
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30.0)

    async def post(
        self,
        method: str,
        body: dict[str, Any] | list[Any] | bytes,
        *,
        version: str = "v1",
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
        key: rsa.RSAPrivateKey | None = None,
        http_method: str = "POST",
    ) -> httpx.Response:
        """POST (or ``http_method``) ``/api/<version>/<method>`` signed with the project's key."""
        raw = encode(body)
        sent = {
            "Content-Type": "application/json",
            "X-PARTNER-PROJECT": self.project.id,
            "X-PARTNER-SIGN": sign(raw, key or self.project.key),
        }
        if idempotency_key is not None:
            sent["X-PARTNER-IDEMPOTENCY-KEY"] = idempotency_key
        sent.update(headers or {})
        return await self.http.request(
            http_method, f"/api/{version}/{method}", content=raw, headers=sent
        )

    async def ok(self, method: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """POST and assert a 200 ``status: ok`` answer; return the parsed body."""
        response = await self.post(method, body, **kw)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        assert data["status"] == "ok", data
        return data

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()


class KassaServer:
    """``kassa serve`` as a real subprocess on a free port."""

    def __init__(self, database_url: str, data_dir: Path, *args: str, **env: str) -> None:
        """Prepare (not start) a server over ``database_url`` keeping keys in ``data_dir``.

        ``args`` are extra ``kassa serve`` options (``--workers 2 --no-worker``).
        """
        self.args = args
        self.database_url = database_url
        self.data_dir = data_dir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / f"server-{self.port}.log"
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> KassaServer:
        """Start and wait until ``/healthz`` answers."""
        env = {
            **os.environ,
            "KASSA_DATABASE_URL": self.database_url,
            "KASSA_DATA_DIR": str(self.data_dir),
            "KASSA_PORT": str(self.port),
            "KASSA_HOST": "127.0.0.1",
            # The tests' receivers listen on 127.0.0.1: relax the SSRF guard (off by default).
            "KASSA_ALLOW_PRIVATE_WEBHOOKS": "1",
            **self.env,
        }
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kassa", "serve", *self.args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                msg = f"kassa serve exited: {self.log_path.read_text()[-2000:]}"
                raise RuntimeError(msg)
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        msg = f"kassa serve did not start: {self.log_path.read_text()[-2000:]}"
        raise RuntimeError(msg)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), then kill."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def log(self) -> str:
        """Everything the server printed."""
        return self.log_path.read_text(errors="replace")


async def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> None:
    """Poll an async or sync predicate until it is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        await asyncio.sleep(interval)
    msg = "condition not met in time"
    raise AssertionError(msg)


def assert_error(response: httpx.Response, status: int, code: str) -> str:
    """Assert the error envelope with ``status`` and ``code``; return the description.

    Clients recognise errors by HTTP status ≥ 400 and read string ``code`` and ``description``.
    """
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    data = response.json()
    assert set(data) == {"status", "error"}, data
    assert data["status"] == "error"
    assert set(data["error"]) == {"code", "description"}, data
    assert isinstance(data["error"]["code"], str)
    assert isinstance(data["error"]["description"], str)
    assert data["error"]["code"] == code, data
    assert "Traceback" not in response.text
    return str(data["error"]["description"])


SCRATCH_TABLE = Stmt("CREATE TABLE scratch (k TEXT PRIMARY KEY, v INTEGER NOT NULL)")


def scratch_insert(key: str, value: int = 1) -> Stmt:
    """One row into the driver tests' scratch table."""
    return Stmt("INSERT INTO scratch (k, v) VALUES (?, ?)", (key, value))


async def scratch_keys(driver: Driver) -> list[str]:
    """The scratch table's keys, sorted."""
    return [str(row[0]) for row in await driver.fetch("SELECT k FROM scratch ORDER BY k")]


async def raw_driver(database_url: str) -> Driver:
    """A driver on the database without the migration check (it may be empty)."""
    if database_url.startswith("sqlite:///"):
        return SqliteDriver(sqlite_path(database_url))
    return await PostgresDriver.connect(database_url, min_size=1, max_size=2)


async def _tables(driver: Driver) -> list[str]:
    if driver.dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return sorted(str(row[0]) for row in await driver.fetch(sql))


async def table_rows(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (``alembic_version`` included), straight from the database."""
    driver = await raw_driver(database_url)
    try:
        return {
            table: await driver.fetch(f'SELECT * FROM "{table}"') for table in await _tables(driver)
        }
    finally:
        await driver.close()


async def table_counts(database_url: str) -> dict[str, int]:
    """Row count of every table in the database."""
    return {table: len(found) for table, found in (await table_rows(database_url)).items()}


def kassa_cli(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m kassa ARGS`` with only the given ``KASSA_*`` settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KASSA_")}
    done = subprocess.run(
        [sys.executable, "-m", "kassa", *args],
        env={**clean, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check and done.returncode != 0:
        msg = f"kassa {' '.join(args)} exited {done.returncode}: {done.stdout}{done.stderr}"
        raise AssertionError(msg)
    return done
