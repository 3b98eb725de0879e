"""What benchmarks need around a measurement: scratch database, free port, process stop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import uuid
from typing import TYPE_CHECKING

import asyncpg

from kassa.adapters.db.migrate import upgrade

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
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
