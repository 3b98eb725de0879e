"""What benchmarks need around a measurement: scratch database, free port, process stop."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import subprocess
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg

from kassa.adapters.db.migrate import upgrade

if TYPE_CHECKING:
    from collections.abc import Iterator


def admin_sql(url: str, sql: str) -> None:
    """Run one statement on the PostgreSQL at ``url`` (CREATE/DROP DATABASE, no transaction)."""

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@contextlib.contextmanager
def scratch_database(kind_url: str, workdir: Path) -> Iterator[str]:
    """A migrated database of the same kind as ``kind_url``, removed afterwards.

    SQLite: a file in ``workdir``. PostgreSQL: a database created beside ``kind_url``'s and
    dropped (with any connection left) at the end.
    """
    if kind_url.startswith("sqlite"):
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        upgrade(url)
        yield url
        return
    name = f"kassa_bench_{uuid.uuid4().hex[:8]}"
    admin_sql(kind_url, f'CREATE DATABASE "{name}"')
    url = kind_url.rpartition("/")[0] + "/" + name
    try:
        upgrade(url)
        yield url
    finally:
        admin_sql(kind_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_LOWEST = 20_000  # below it: the well-known services (PostgreSQL 5432, Redis 6379, …)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing holds right now, below the ephemeral range.

    The kernel answers ``bind(port 0)`` from the ephemeral range, the same range outgoing
    connections take their local port from: between this answer and the server's own bind, a
    connection of a load generator or of another test's pool could take the port, and the
    server fails to start. Below that range only servers bind, so a random free port there
    stays free unless another test picks the very same one (1 in ~12,000).
    """
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text(encoding="ascii")
        ephemeral = int(text.split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral = 32_768
    for _ in range(100):
        port = _LOWEST + secrets.randbelow(max(1, ephemeral - _LOWEST))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # no luck below the range: let the kernel choose
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(procs: list[subprocess.Popen[bytes]], grace: float = 20.0) -> None:
    """SIGTERM every process, wait up to ``grace`` seconds each, then kill what is left."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
