"""Processes a benchmark starts: kassa, workers, baselines; their health, RSS and CPU.

Everything listens on 127.0.0.1 and is stopped by ``stop`` (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from collections.abc import Sequence

_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICKS = os.sysconf("SC_CLK_TCK")


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Wait until ``url`` answers below 500; fail if the process exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = f"benchmark process exited early ({proc.args!r})"
            raise RuntimeError(msg)
        try:
            if httpx.get(url, timeout=1).status_code < 500:  # noqa: PLR2004
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    msg = f"benchmark process did not answer at {url}"
    raise RuntimeError(msg)


def spawn(
    args: Sequence[str], env: dict[str, str], health: str | None = None, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start ``args`` (output to ``log``, or discarded); wait for ``health`` when given."""
    out = subprocess.DEVNULL if log is None else log.open("ab")
    try:
        proc = subprocess.Popen(  # noqa: S603 - our own commands
            list(args), env=env, stdout=out, stderr=subprocess.STDOUT
        )
    finally:
        if log is not None:
            out.close()  # type: ignore[union-attr]
    if health is not None:
        try:
            wait_healthy(health, proc)
        except Exception:
            proc.kill()
            raise
    return proc


def stop(procs: Sequence[subprocess.Popen[bytes]], grace: float = 20.0) -> None:
    """SIGTERM every process, wait up to ``grace`` seconds each, then kill what is left."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            text = (task / "children").read_text()
        except OSError:
            continue
        found += [int(c) for c in text.split()]
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (uvicorn's supervisor and its workers)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += _children(current)
    return out


@dataclass(frozen=True, slots=True)
class Usage:
    """Resident memory (MB) of each process of a tree, and their CPU seconds together."""

    rss_mb: tuple[float, ...]
    cpu_seconds: float


def stat_cpu(stat: Path) -> float | None:
    """User + system CPU seconds from a ``/proc/<pid>/stat`` (or ``task/<tid>/stat``) file.

    None once the process or thread is gone.
    """
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, IndexError, ValueError):
        return None


def _own(pid: int) -> tuple[float, float] | None:
    """(RSS MB, user+system CPU seconds) of one process; None once it is gone."""
    cpu = stat_cpu(Path(f"/proc/{pid}/stat"))
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return None if cpu is None else (pages * _PAGE / 1e6, cpu)


def usage(pid: int) -> Usage:
    """RSS per process and total user+system CPU of the tree rooted at ``pid``."""
    found = [own for p in tree(pid) if (own := _own(p)) is not None]
    return Usage(tuple(rss for rss, _ in found), sum(cpu for _, cpu in found))


def busiest(pid: int) -> int:
    """The process of ``pid``'s tree that has used the most CPU: a request-serving worker.

    uvicorn's supervisor also has multiprocessing's helper children, so "the first child" is
    not always a worker; after a warm-up load the busiest descendant is.
    """

    def cpu(p: int) -> float:
        own = _own(p)
        return 0.0 if own is None else own[1]

    return max(tree(pid)[1:] or [pid], key=cpu)


def kassa_env(database_url: str, workdir: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment of a benchmark ``kassa serve``: its own data dir, quiet logs off."""
    return {
        **os.environ,
        "KASSA_DATABASE_URL": database_url,
        "KASSA_DATA_DIR": str(workdir),
        "KASSA_PORT": str(port),
        "KASSA_ALLOW_PRIVATE_WEBHOOKS": "1",
        **extra,
    }


def kassa_serve(
    env: dict[str, str], port: int, *, workers: int = 1, worker: bool = False
) -> subprocess.Popen[bytes]:
    """``kassa serve --workers N`` (with or without its in-process delivery worker)."""
    args = [sys.executable, "-m", "kassa", "serve", "--workers", str(workers)]
    if not worker:
        args.append("--no-worker")
    log = Path(env["KASSA_DATA_DIR"]) / f"serve-{port}.log"
    return spawn(args, env, f"http://127.0.0.1:{port}/healthz", log=log)


def kassa_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A ``kassa worker`` process (delivery and the sweeper), logging to the data dir."""
    log = Path(env["KASSA_DATA_DIR"]) / f"worker-{env['KASSA_PORT']}.log"
    return spawn([sys.executable, "-m", "kassa", "worker"], env, log=log)


def log_tail(path: Path, lines: int = 5) -> list[str]:
    """The last ``lines`` lines of a process log (for a report's notes when a run failed)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line[:300] for line in text.splitlines()[-lines:]]
