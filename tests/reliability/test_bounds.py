"""Resource bounds (issue 14 §8): many slow clients do not stop a normal one; memory bounded.

``scale("clients", 1000)`` connections to 127.0.0.1 hold the server the slowloris way: half
trickle their request headers a few bytes at a time, half send headers announcing a 1 MiB
body and trickle that. Meanwhile a normal client keeps creating sessions; every one of its
requests must be answered ``ok``. The server's resident memory (``/proc/<pid>/status``) is
sampled throughout and must stay within a bound. The run is bounded (a few seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
from pathlib import Path

import pytest

import reliability_tally
from testkit import KassaServer, SignedClient, create_project

pytestmark = pytest.mark.slow

HOLD_SECONDS = 6.0
RSS_GROWTH_LIMIT_KB = 256 * 1024  # 256 MiB over the idle server


def rss_kb(pid: int) -> int:
    """Resident set size of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's open-file limit towards ``wanted``; the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(hard, max(soft, wanted))
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


async def slow_client(port: int, n: int, stop: asyncio.Event, opened: list[int]) -> None:
    """Open a connection and feed it a byte run every 0.5 s until ``stop``."""
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return
    opened.append(n)
    if n % 2:
        head = b"POST /api/v1/session/create HTTP/1.1\r\nHost: x\r\nX-Slow: "
        trickle = b"a"
    else:
        head = (
            b"POST /api/v1/session/create HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{"
        )
        trickle = b" "
    try:
        writer.write(head)
        await writer.drain()
        while not stop.is_set():
            await asyncio.sleep(0.5)
            writer.write(trickle)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def test_slow_clients_do_not_stop_a_normal_client(
    module_database_url: str, tmp_path: Path
) -> None:
    """N slowloris connections held for a few seconds; the normal client is served throughout."""
    clients = reliability_tally.scale("clients", 1000)
    limit = raise_fd_limit(clients * 2 + 256)
    assert limit >= clients + 128, f"open-file limit {limit} too low for {clients} clients"
    server = KassaServer(module_database_url, tmp_path, KASSA_WORKER="0").start()
    assert server.proc is not None
    try:
        project = await create_project(server.database_url)
        client = SignedClient(server.base_url, project)
        body = {"amount_details": {"amount": 100, "currency": "usd"}}
        await client.ok("session/create", body)
        idle_kb = rss_kb(server.proc.pid)
        stop = asyncio.Event()
        opened: list[int] = []
        slow = [
            asyncio.create_task(slow_client(server.port, n, stop, opened)) for n in range(clients)
        ]
        await asyncio.sleep(1.0)  # let them connect
        served = failed = 0
        worst = 0.0
        peak_kb = idle_kb
        server_fds = 0
        deadline = time.monotonic() + HOLD_SECONDS
        while time.monotonic() < deadline:
            started = time.monotonic()
            response = await client.post("session/create", body)
            worst = max(worst, time.monotonic() - started)
            if response.status_code == 200:
                served += 1
            else:
                failed += 1
            peak_kb = max(peak_kb, rss_kb(server.proc.pid))
            server_fds = max(server_fds, len(list(Path(f"/proc/{server.proc.pid}/fd").iterdir())))
        held = len(opened) - sum(1 for t in slow if t.done())
        stop.set()
        await asyncio.gather(*slow)
        await asyncio.sleep(0.5)
        after_kb = rss_kb(server.proc.pid)
        still = await client.post("session/create", body)
        await client.aclose()
    finally:
        server.stop()
    assert len(opened) >= clients * 0.95, (len(opened), clients)
    assert held >= clients * 0.9, (held, clients)  # they really were held open meanwhile
    assert server_fds >= clients * 0.9, server_fds  # the server itself held them
    assert failed == 0
    assert served >= 5, served
    assert still.status_code == 200
    assert peak_kb - idle_kb < RSS_GROWTH_LIMIT_KB, (idle_kb, peak_kb)
    dialect = "sqlite" if module_database_url.startswith("sqlite") else "postgres"
    reliability_tally.record(
        "bounds",
        f"slow-clients-{dialect}",
        {
            "slow connections opened": len(opened),
            "held open while the normal client ran": held,
            "server's open descriptors at peak": server_fds,
            "normal requests served ok": served,
            "normal requests failed": failed,
            "slowest normal request (s)": round(worst, 3),
            "server RSS idle (MiB)": round(idle_kb / 1024, 1),
            "server RSS peak (MiB)": round(peak_kb / 1024, 1),
            "server RSS after (MiB)": round(after_kb / 1024, 1),
        },
        "KASSA_TORTURE_CLIENTS=<n> .venv/bin/pytest tests/reliability/test_bounds.py",
        notes=[
            (
                f"Half trickle headers, half a 1 MiB body, for {HOLD_SECONDS:g} s; RSS growth "
                f"bound {RSS_GROWTH_LIMIT_KB // 1024} MiB."
            )
        ],
    )
