"""Debian's pgbouncer in transaction mode in front of a PostgreSQL, for the tests and the bench.

``running(database_url)`` writes an ini and a userlist into a temporary folder, starts
``/usr/sbin/pgbouncer`` on a free loopback port with ``auth_type = trust`` toward the
PostgreSQL of ``database_url`` (every database name passes through: ``* = host=… port=…``),
waits until it accepts connections, and stops it at the end. ``Pgbouncer.url(u)`` is ``u``
through it, with kassa's ``pgbouncer=1`` so asyncpg keeps no prepared statements
(``adapters/db/postgres.py``). pgbouncer refuses to run as root: as root it is started with
``-u`` the owner of the PostgreSQL data (``postgres``), which then owns the folder.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from kassa.bench.scratch import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

PGBOUNCER = Path("/usr/sbin/pgbouncer")  # Debian's package (`make system` installs it)
PSQL = "psql"  # the admin console speaks only the simple query protocol: ask it with psql

_INI = """\
[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/userlist.txt
admin_users = {user}
stats_users = {user}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = {max_clients}
ignore_startup_parameters = extra_float_digits
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
"""


def _run_as() -> str | None:
    """The user to run as: ``postgres`` (or ``nobody``) when this process is root, else None."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name).pw_name
    msg = "pgbouncer will not run as root and no postgres/nobody user exists"
    raise RuntimeError(msg)


@dataclass
class Pgbouncer:
    """A running pgbouncer: its port, folder and process."""

    port: int
    folder: Path
    user: str  # the database user of the URL, allowed by the userlist
    proc: subprocess.Popen[bytes]

    def url(self, database_url: str) -> str:
        """``database_url`` (same database and user) through this pgbouncer, ``pgbouncer=1``."""
        parts = urlsplit(database_url)
        netloc = parts.netloc.rpartition("@")
        auth = f"{netloc[0]}@" if netloc[1] else ""
        query = "&".join(q for q in (parts.query, "pgbouncer=1") if q)
        return urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{self.port}", query=query))

    def show(self, what: str) -> list[dict[str, str]]:
        """``SHOW <what>`` on the admin console (STATS, POOLS, CLIENTS…) as rows of columns."""
        done = subprocess.run(  # noqa: S603 - psql with our own arguments
            [
                PSQL,
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                "pgbouncer",
                "--no-psqlrc",
                "-A",
                "-F",
                "\t",
                "-c",
                f"SHOW {what}",
            ],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        lines = [line for line in done.stdout.splitlines() if line and not line.startswith("(")]
        if not lines:
            return []
        header = lines[0].split("\t")
        return [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:]]

    def transactions(self, database: str) -> int:
        """Transactions pgbouncer has passed to ``database`` since it started."""
        return sum(
            int(row.get("total_xact_count", "0"))
            for row in self.show("STATS")
            if row.get("database") == database
        )

    def log(self) -> str:
        """What pgbouncer logged."""
        path = self.folder / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM (pgbouncer's immediate shutdown), then kill."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _accepting(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start(
    database_url: str, folder: Path, *, pool_size: int = 20, max_clients: int = 400
) -> Pgbouncer:
    """Start pgbouncer in ``folder`` before ``database_url``'s server; wait until it listens."""
    if not PGBOUNCER.exists():
        msg = f"{PGBOUNCER} is missing: `make system` installs Debian's pgbouncer"
        raise RuntimeError(msg)
    target = urlsplit(database_url)
    user = target.username or "postgres"
    port = free_port()
    (folder / "pgbouncer.ini").write_text(
        _INI.format(
            host=target.hostname or "127.0.0.1",
            port=target.port or 5432,
            listen=port,
            folder=folder,
            user=user,
            pool_size=pool_size,
            max_clients=max_clients,
        ),
        encoding="utf-8",
    )
    (folder / "userlist.txt").write_text(f'"{user}" ""\n', encoding="utf-8")
    args = [str(PGBOUNCER), str(folder / "pgbouncer.ini")]
    owner = _run_as()
    if owner is not None:
        shutil.chown(folder, owner)
        for path in folder.iterdir():
            shutil.chown(path, owner)
        args[1:1] = ["-u", owner]
    proc = subprocess.Popen(  # noqa: S603 - Debian's pgbouncer with our ini
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    bouncer = Pgbouncer(port, folder, user, proc)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = f"pgbouncer exited ({proc.returncode}): {bouncer.log()[-1500:]}"
            raise RuntimeError(msg)
        if _accepting(port):
            return bouncer
        time.sleep(0.05)
    bouncer.stop()
    msg = f"pgbouncer did not listen on {port}: {bouncer.log()[-1500:]}"
    raise RuntimeError(msg)


@contextlib.contextmanager
def running(database_url: str, **options: int) -> Iterator[Pgbouncer]:
    """A pgbouncer in front of ``database_url``'s server for the ``with`` block."""
    with tempfile.TemporaryDirectory(prefix="kassa-pgbouncer-") as tmp:
        bouncer = start(database_url, Path(tmp), **options)
        try:
            yield bouncer
        finally:
            bouncer.stop()
