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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reliability_kit import Load, Stack, audit, cleanup
from reliability_tally import record, scale

if TYPE_CHECKING:
    from pathlib import Path


UP_AT_LEAST = 1.0  # seconds the API serves between a restart and the next kill


def _seed() -> int:
    raw = os.environ.get("KASSA_RELIABILITY_SEED", "")
    return int(raw) if raw else random.SystemRandom().randrange(1, 10**9)


@dataclass
class Killer:
    """SIGKILLs (no cleanup, no answer) and restarts; an API restart runs in the background."""

    stack: Stack
    rng: random.Random
    done: dict[str, int] = field(default_factory=lambda: {"api": 0, "worker": 0})
    api_away: float = 0.0  # seconds the API was down, over all its kills
    serving_since: float = field(default_factory=time.monotonic)
    restarting: asyncio.Task[None] | None = None

    async def kill(self, which: str) -> None:
        """Kill ``which``; the worker is back at once, the API when it answers ``/healthz``."""
        pause = self.rng.random() * 0.3
        if which == "worker":
            assert self.stack.worker is not None
            assert self.stack.worker.proc is not None
            self.stack.worker.proc.kill()
            await asyncio.to_thread(self.stack.worker.proc.wait, 10)
            await asyncio.sleep(pause)
            self.stack.worker.start()
        else:
            await self.api_back()
            # Only after the API served a while since its restart: kills land on requests in
            # flight, not on a server still starting.
            await asyncio.sleep(max(0.0, self.serving_since + UP_AT_LEAST - time.monotonic()))
            assert self.stack.server is not None
            assert self.stack.server.proc is not None
            down = time.monotonic()
            self.stack.server.proc.kill()
            await asyncio.to_thread(self.stack.server.proc.wait, 10)
            self.restarting = asyncio.create_task(self._restart(down, pause))
        self.done[which] += 1

    async def _restart(self, down: float, pause: float) -> None:
        assert self.stack.server is not None
        await asyncio.sleep(pause)
        await asyncio.to_thread(self.stack.server.start)
        self.serving_since = time.monotonic()
        self.api_away += self.serving_since - down

    async def api_back(self) -> None:
        """Wait for a restart in progress."""
        if self.restarting is not None:
            await self.restarting
            self.restarting = None


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
    # API kill waits until the API is back and served a second, so the schedule may stretch).
    seconds = max(float(scale("seconds", 0)), kills * 1.2 + 4)
    moments = sorted(rng.uniform(2, seconds - 4) for _ in range(kills))
    load = Load(stack, seed, seconds=seconds * 8, max_requests=200 * kills + 2000).start()
    killer = Killer(stack, rng)
    started = time.monotonic()
    with cleanup(stack, load):
        for moment in moments:
            await asyncio.sleep(max(0.0, started + moment - time.monotonic()))
            assert load.running(), ("the load ended before the kills", load.reproducer())
            await killer.kill(rng.choice(["api", "worker"]))
        await killer.api_back()
        await asyncio.sleep(2)  # the last restart serves requests too
        killing = time.monotonic() - started
        load.finish()
        code = await load.wait(timeout=150)
        assert code == 0, load.reproducer()
        done = killer.done
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
            "API down per kill (s, mean)": round(killer.api_away / max(done["api"], 1), 2),
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
