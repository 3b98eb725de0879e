"""The bench's process helpers: the busiest child is profiled; ports servers can bind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from kassa.bench.procs import busiest, tree
from kassa.bench.scratch import free_port

# A parent with an idle child started first (like multiprocessing's resource tracker beside
# uvicorn's workers) and a busy one started second; it prints their pids once the busy one
# has spun for a while.
_PARENT = """
import subprocess, sys, time
idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
busy = subprocess.Popen([sys.executable, "-c",
    "import time\\nend = time.monotonic() + 0.6\\nwhile time.monotonic() < end: pass\\n"
    "time.sleep(60)"])
time.sleep(1.2)
print(idle.pid, busy.pid, flush=True)
time.sleep(60)
"""


def test_busiest_is_the_child_that_used_the_most_cpu() -> None:
    """Whatever order the children come in, the one that worked is chosen."""
    with subprocess.Popen(
        [sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            assert parent.stdout is not None
            idle, busy = (int(p) for p in parent.stdout.readline().split())
            assert {idle, busy} <= set(tree(parent.pid))
            assert busiest(parent.pid) == busy
        finally:
            for pid in tree(parent.pid)[1:]:
                os.kill(pid, signal.SIGKILL)
            parent.kill()


def test_free_ports_lie_below_the_ephemeral_range_and_are_free() -> None:
    """Outgoing connections cannot take them between the choice and the server's bind."""
    ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {free_port() for _ in range(20)}
    assert len(ports) > 1  # chosen at random, not one fixed port
    for port in ports:
        assert port < ephemeral
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
