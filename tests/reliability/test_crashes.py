"""Crashes under load (issue 14 §1): SIGKILL the API and the worker, clients retry, nothing lost.

The driver (``tests/reliability_load.py``, its own process) runs the mix of signed methods with
idempotency keys; meanwhile the test SIGKILLs ``kassa serve`` or ``kassa worker`` at seeded
random moments and restarts it, at least ``scale("kills", 20)`` times. Clients retry with the
same key and bytes until a definitive answer. Then ``reliability_kit.audit`` checks every
acknowledged answer against the database, duplicates per key and per processor call, the
recovery sweeper's work, the webhooks at a real receiver and ``kassa ledger check``.
On PostgreSQL and on SQLite (one API process). ``kassa torture -k test_crashes`` runs it
longer with more kills.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import TYPE_CHECKING

from reliability_kit import Load, Stack, audit, cleanup
from reliability_tally import record, scale

if TYPE_CHECKING:
    from pathlib import Path


def _seed() -> int:
    raw = os.environ.get("KASSA_RELIABILITY_SEED", "")
    return int(raw) if raw else random.SystemRandom().randrange(1, 10**9)


async def _kill_and_restart(stack: Stack, rng: random.Random, which: str) -> float:
    """SIGKILL ``which`` (no cleanup, no answer), start it again; the seconds it was away."""
    down = time.monotonic()
    if which == "api":
        assert stack.server is not None
        assert stack.server.proc is not None
        stack.server.proc.kill()
        await asyncio.to_thread(stack.server.proc.wait, 10)
        await asyncio.sleep(rng.random() * 0.3)
        await asyncio.to_thread(stack.server.start)
    else:
        assert stack.worker is not None
        assert stack.worker.proc is not None
        stack.worker.proc.kill()
        await asyncio.to_thread(stack.worker.proc.wait, 10)
        await asyncio.sleep(rng.random() * 0.3)
        stack.worker.start()
    return time.monotonic() - down


async def test_sigkills_under_load_lose_nothing(database_url: str, tmp_path: Path) -> None:
    """≥ 20 SIGKILLs of API and worker under load: every check of §1 holds; lost = 0."""
    url = database_url
    backend = "postgres" if url.startswith("postgres") else "sqlite"
    kills = scale("kills", 20)
    seed = _seed()
    print(f"reliability seed={seed} (KASSA_RELIABILITY_SEED={seed} reproduces the schedule)")
    rng = random.Random(seed)
    stack = await Stack(url, tmp_path).start()
    # Sized so that the kills spread over the load: ~1.2 s apart at seeded random moments (an
    # API restart takes about as long, so the next kill may come as soon as it serves again).
    seconds = max(float(scale("seconds", 0)), kills * 1.2 + 4)
    moments = sorted(rng.uniform(2, seconds - 4) for _ in range(kills))
    load = Load(stack, seed, seconds=seconds * 4, max_requests=200 * kills + 2000).start()
    done = {"api": 0, "worker": 0}
    away = {"api": 0.0, "worker": 0.0}
    started = time.monotonic()
    with cleanup(stack, load):
        for moment in moments:
            await asyncio.sleep(max(0.0, started + moment - time.monotonic()))
            assert load.running(), ("the load ended before the kills", load.reproducer())
            which = rng.choice(["api", "worker"])
            away[which] += await _kill_and_restart(stack, rng, which)
            done[which] += 1
        await asyncio.sleep(2)  # the last restart serves requests too
        killing = time.monotonic() - started
        load.finish()
        code = await load.wait(timeout=150)
        assert code == 0, load.reproducer()
        assert sum(done.values()) >= kills, (done, load.reproducer())
        figures = await audit(stack, load)
    assert figures["retries"] > 0, figures  # the kills were felt by the clients
    print(figures, load.reproducer())
    record(
        "crashes",
        f"sigkill-under-load-{backend}",
        {
            "kills survived": sum(done.values()),
            "API kills": done["api"],
            "worker kills": done["worker"],
            "API down per kill (s, mean)": round(away["api"] / max(done["api"], 1), 2),
            **figures,
            "seconds under kills": round(killing, 1),
            "seconds in all": round(time.monotonic() - started, 1),
        },
        f"kassa torture -k 'test_sigkills_under_load_lose_nothing and {backend}' --kills N",
        [
            f"seed {seed}; the same schedule: KASSA_RELIABILITY_SEED={seed}",
            (
                "mix: session/create, init/payment (auto-confirm off and on) → confirm / cancel /"
                " refund, two-step init → capture, funded init/payout → confirm"
            ),
        ],
    )
