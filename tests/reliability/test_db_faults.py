"""Database faults under load (issue 14 §2): nothing wrong, nothing lost, recovery in place.

PostgreSQL (never stopped: only this test's database's backends are touched): random kassa
backends terminated (``pg_terminate_backend``), a lock on ``sessions`` held past kassa's
statement/lock timeout (``KASSA_DB_STATEMENT_TIMEOUT_MS``, shrunk to 1 s), every kassa backend
terminated at once. SQLite: the database on a full file system (a size-limited tmpfs), and the
database locked by another connection's ``BEGIN EXCLUSIVE`` past the busy timeout.

Throughout, the load driver of the crash test retries 500s with the same key; afterwards the
same audit (``reliability_kit.audit``) proves no wrong answer and no loss, and the processes
that served before the faults (never restarted) answer ok after them. Each fault kind records
its figures: faults injected, the 500s that fell in its windows, wrong answers, lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from reliability_kit import Load, Stack, audit, cleanup
from reliability_tally import record, scale

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TIMEOUT_MS = 1000  # KASSA_DB_STATEMENT_TIMEOUT_MS for these tests
TAIL = 1.5  # seconds after a fault window in which a 500 still counts for it


def _seed() -> int:
    raw = os.environ.get("KASSA_RELIABILITY_SEED", "")
    return int(raw) if raw else random.SystemRandom().randrange(1, 10**9)


@dataclass
class Faults:
    """What was injected, when (wall clock, as in the request log)."""

    windows: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    injected: dict[str, int] = field(default_factory=dict)
    extra: dict[str, dict[str, int]] = field(default_factory=dict)  # kind → more figures

    def add(self, kind: str, figure: str, count: int) -> None:
        """Count something a fault of ``kind`` did (backends terminated, bytes filled …)."""
        mine = self.extra.setdefault(kind, {})
        mine[figure] = mine.get(figure, 0) + count

    @contextlib.asynccontextmanager
    async def window(self, kind: str) -> Any:
        """Mark the time a fault of ``kind`` lasts."""
        start = time.time()
        try:
            yield
        finally:
            self.windows.setdefault(kind, []).append((start, time.time()))
            self.injected[kind] = self.injected.get(kind, 0) + 1

    def of(self, t: float) -> str | None:
        """The fault kind a moment falls in (with a tail for the retry), if any."""
        for kind, spans in self.windows.items():
            if any(start <= t <= end + TAIL for start, end in spans):
                return kind
        return None

    def last_end(self) -> float:
        """When the last fault ended."""
        return max(end for spans in self.windows.values() for _, end in spans)


def _errors_by_kind(load: Load, faults: Faults) -> dict[str, int]:
    seen: dict[str, int] = {}
    for line in load.lines():
        if line.get("outcome") == "500":
            kind = faults.of(line["t"]) or "outside any fault"
            seen[kind] = seen.get(kind, 0) + 1
    return seen


def _ok_after(load: Load, moment: float) -> int:
    return sum(1 for x in load.lines() if x.get("outcome") == "ok" and x["t"] > moment)


def _pids(stack: Stack) -> tuple[int, int]:
    assert stack.server is not None
    assert stack.server.proc is not None
    assert stack.worker is not None
    assert stack.worker.proc is not None
    return stack.server.proc.pid, stack.worker.proc.pid


async def _finish(
    stack: Stack, load: Load, faults: Faults, pids: tuple[int, int]
) -> dict[str, int]:
    """Load a little longer, stop it, audit; the same processes served before and after."""
    await asyncio.sleep(2)
    load.finish()
    assert await load.wait(timeout=150) == 0, load.reproducer()
    assert _pids(stack) == pids, "kassa was restarted"
    assert stack.server is not None
    assert stack.server.proc is not None
    assert stack.server.proc.poll() is None, stack.server.log()[-2000:]
    assert stack.worker is not None
    assert stack.worker.proc is not None
    assert stack.worker.proc.poll() is None
    recovered = _ok_after(load, faults.last_end() + TAIL)
    assert recovered > 0, ("no ok answer after the faults", load.reproducer())
    return await audit(stack, load)


def _record(
    name: str, faults: Faults, figures: dict[str, int], seen: dict[str, int], *, seed: int,
    command: str,
) -> None:  # fmt: skip
    for kind, count in faults.injected.items():
        record(
            "db-faults",
            f"{name}-{kind}",
            {
                "faults injected": count,
                **faults.extra.get(kind, {}),
                "500s seen": seen.get(kind, 0),
                "requests (whole load)": figures["requests"],
                "ok answers (whole load)": figures["ok answers"],
                "wrong answers": figures["wrong answers"],
                "lost": figures["lost"],
            },
            command,
            [f"seed {seed}; 500s outside any fault window: {seen.get('outside any fault', 0)}"],
        )


# PostgreSQL ------------------------------------------------------------------------------------


async def _kassa_backends(admin: asyncpg.Connection, database: str) -> list[int]:
    rows = await admin.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
        " AND backend_type = 'client backend'",
        database,
    )
    return [int(r["pid"]) for r in rows]


async def _terminate(admin: asyncpg.Connection, pids: list[int]) -> int:
    done = 0
    for pid in pids:
        done += bool(await admin.fetchval("SELECT pg_terminate_backend($1)", pid))
    return done


@pytest.mark.postgres
async def test_postgres_backends_terminated_and_locks_held(pg_url: str, tmp_path: Path) -> None:
    """Terminated backends, a lock past the timeout, all backends at once: clean 500s, no loss."""
    seed = _seed()
    print(f"reliability seed={seed}")
    rng = random.Random(seed)
    database = pg_url.rsplit("/", 1)[-1]
    stack = await Stack(
        pg_url, tmp_path, env={"KASSA_DB_STATEMENT_TIMEOUT_MS": str(TIMEOUT_MS)}
    ).start()
    load = Load(stack, seed, seconds=120, max_requests=20_000).start()
    faults = Faults()
    terminated = 0
    with cleanup(stack, load):
        pids = _pids(stack)
        admin = await asyncpg.connect(pg_url)
        try:
            await asyncio.sleep(2)
            for _ in range(scale("kills", 20)):  # one random backend at a time
                async with faults.window("terminate-one"):
                    found = await _kassa_backends(admin, database)
                    gone = await _terminate(admin, [rng.choice(found)] if found else [])
                    faults.add("terminate-one", "backends terminated", gone)
                    terminated += gone
                await asyncio.sleep(rng.uniform(0.1, 0.4))
            for _ in range(2):  # a lock held past the statement timeout
                lock = await asyncpg.connect(pg_url)
                try:
                    async with faults.window("lock-past-timeout"), lock.transaction():
                        await lock.execute("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
                        await asyncio.sleep(TIMEOUT_MS / 1000 * 2.5)
                finally:
                    await lock.close()
                await asyncio.sleep(1)
            for _ in range(3):  # every kassa backend at once
                async with faults.window("terminate-all"):
                    gone = await _terminate(admin, await _kassa_backends(admin, database))
                    faults.add("terminate-all", "backends terminated", gone)
                    terminated += gone
                await asyncio.sleep(1.5)
        finally:
            await admin.close()
        figures = await _finish(stack, load, faults, pids)
    seen = _errors_by_kind(load, faults)
    print(faults.injected, seen, figures, load.reproducer())
    assert terminated >= faults.injected["terminate-one"], terminated  # the faults happened
    assert seen.get("lock-past-timeout", 0) > 0, seen  # the timeout answered, not a hang
    _record("postgres", faults, figures, seen, seed=seed, command=
            "pytest tests/reliability/test_db_faults.py::"
            "test_postgres_backends_terminated_and_locks_held")  # fmt: skip


# SQLite ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _small_filesystem(where: Path, megabytes: int) -> Iterator[Path]:
    """A size-limited tmpfs at ``where`` (root only; this machine's tests run as root)."""
    if os.geteuid() != 0:
        pytest.fail("the SQLite disk-full test mounts a tmpfs and needs root")
    where.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(where)],
        check=True,
        timeout=30,
    )
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, timeout=30)


def _fill(mount: Path) -> int:
    """Write a filler file until the file system is full; return the bytes written."""
    written = 0
    chunk = b"\0" * 65536
    with (mount / "filler").open("wb", buffering=0) as f:
        while True:
            try:
                written += f.write(chunk) or 0
            except OSError:
                break
        with contextlib.suppress(OSError):
            while True:  # the last few bytes, one small write at a time
                written += f.write(b"\0" * 512) or 0
    return written


async def test_sqlite_disk_full_and_locked_database(sqlite_template: Path, tmp_path: Path) -> None:
    """A full file system and a write lock held past the busy timeout: clean 500s, no loss."""
    seed = _seed()
    print(f"reliability seed={seed}")
    with _small_filesystem(tmp_path / "small", 24) as mount:
        shutil.copy(sqlite_template, mount / "kassa.sqlite3")
        url = f"sqlite:///{mount / 'kassa.sqlite3'}"
        stack = await Stack(
            url, tmp_path, env={"KASSA_DB_STATEMENT_TIMEOUT_MS": str(TIMEOUT_MS)}
        ).start()
        load = Load(stack, seed, seconds=120, max_requests=20_000).start()
        faults = Faults()
        with cleanup(stack, load):
            pids = _pids(stack)
            await asyncio.sleep(2)
            for _ in range(2):  # the disk fills up, then space comes back
                async with faults.window("disk-full"):
                    faults.add("disk-full", "bytes filled", await asyncio.to_thread(_fill, mount))
                    await asyncio.sleep(2)
                    (mount / "filler").unlink()
                await asyncio.sleep(1.5)
            for _ in range(2):  # another connection holds the write lock past the busy timeout
                lock = sqlite3.connect(mount / "kassa.sqlite3", isolation_level=None)
                try:
                    async with faults.window("locked"):
                        lock.execute("BEGIN EXCLUSIVE")
                        await asyncio.sleep(TIMEOUT_MS / 1000 * 2.5)
                        lock.execute("ROLLBACK")
                finally:
                    lock.close()
                await asyncio.sleep(1.5)
            figures = await _finish(stack, load, faults, pids)
        seen = _errors_by_kind(load, faults)
        print(faults.injected, faults.extra, seen, figures, load.reproducer())
    assert seen.get("disk-full", 0) > 0, seen  # SQLITE_FULL reached the requests
    assert seen.get("locked", 0) > 0, seen  # and so did "database is locked"
    node = "tests/reliability/test_db_faults.py::test_sqlite_disk_full_and_locked_database"
    _record("sqlite", faults, figures, seen, seed=seed, command=f"pytest {node}")
