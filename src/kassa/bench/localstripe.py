"""localstripe, the offline Stripe fake people use today, as a baseline of ``create``.

It is not a dependency of kassa: ``make bench-tools`` installs localstripe 1.15.10 from PyPI
into its own virtual environment (``var/bench-tools``; its aiohttp pins differ from ours), and
``kassa bench create`` measures it when it is there (or at ``--localstripe PATH``). The load is
``POST /v1/payment_intents`` (form-encoded amount and currency, a test secret key), its
closest counterpart of ``session/create``, against an empty store, as kassa's scratch database
starts empty: equal stored data. localstripe keeps its store in memory and pickles all of it
to ``/tmp/localstripe.pickle`` on every write (and loads that file at start), so the file is
removed before it starts, and its rate falls as its store grows during the run.
"""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from kassa.bench.procs import spawn
from kassa.bench.scratch import free_port
from kassa.bench.wrk import WrkOptions, run_wrk_static

if TYPE_CHECKING:
    from kassa.bench.report import Measure
    from kassa.bench.runner import Bench

STORE = Path("/tmp/localstripe.pickle")  # noqa: S108 - where localstripe keeps its store
LOCK = Path("/tmp/localstripe.pickle.kassa-lock")  # noqa: S108 - one localstripe at a time
INSTALLED = Path("var/bench-tools/bin/localstripe")  # where `make bench-tools` puts it
VERSION = "1.15.10"
SECRET = "sk_test_kassa_bench"  # noqa: S105 - localstripe accepts any test key


def find(explicit: str | None) -> str | None:
    """The localstripe executable: ``--localstripe``, ``var/bench-tools``, or on PATH."""
    if explicit:
        return explicit
    if INSTALLED.exists():
        return str(INSTALLED.resolve())
    return shutil.which("localstripe")


def measure_localstripe(bench: Bench, executable: str) -> Measure:
    """Start localstripe on a free port, warm it, load it like kassa's create; stop it.

    Two benchmarks at once would share localstripe's one store file, so a lock file beside it
    makes them take turns.
    """
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _measure(bench, executable)


def _measure(bench: Bench, executable: str) -> Measure:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    STORE.unlink(missing_ok=True)  # an empty store (and not a truncated one left behind)
    proc = spawn([executable, "--port", str(port)], {"PATH": "/usr/bin:/bin"}, f"{base}/v1/")
    bench.procs.append(proc)
    bench.server_pid = proc.pid
    request = {
        "path": "/v1/payment_intents",
        "body": "amount=1000&currency=usd",
        "content_type": "application/x-www-form-urlencoded",
        "authorization": f"Bearer {SECRET}",
    }
    options = WrkOptions(2, bench.options.connections, bench.options.seconds)
    run_wrk_static(base, WrkOptions(2, bench.options.connections, 1), **request)
    measured = run_wrk_static(base, options, **request)
    bench.stop_all()
    STORE.unlink(missing_ok=True)
    return measured
