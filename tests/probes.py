"""Probes for the operation pipeline's steps (``service.ports.Probe``): barriers and faults."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter


class Barrier:
    """Holds the first ``parties`` arrivals at ``step`` until all have arrived, then lets go.

    Two requests both past their decision and before their commit: their transactions overlap
    whatever the scheduler or the database would otherwise do. ``conflicts`` counts version
    checks lost (the ``conflict`` step), so a test can show the race really happened.
    """

    def __init__(self, step: str = "intent:decided", parties: int = 2, timeout: float = 10.0):
        """Wait at ``step`` for ``parties`` arrivals (at most ``timeout`` seconds)."""
        self.step, self.parties, self.timeout = step, parties, timeout
        self.conflicts = 0
        self.arrived = 0
        self.all_here = asyncio.Event()
        self.armed = False

    def reset(self) -> None:
        """Arm for the next round (until ``parties`` have passed)."""
        self.arrived = 0
        self.all_here = asyncio.Event()
        self.armed = True

    async def at(self, step: str, session_id: str) -> None:
        """Count conflicts; hold the first arrivals at ``step``."""
        del session_id
        if step == "conflict":
            self.conflicts += 1
            return
        if not self.armed or step != self.step or self.arrived >= self.parties:
            return
        self.arrived += 1
        if self.arrived == self.parties:
            self.all_here.set()
            self.armed = False
        with contextlib.suppress(TimeoutError):  # no race: the test's conflict count says so
            await asyncio.wait_for(self.all_here.wait(), self.timeout)


class Crash(Exception):
    """The request 'dies' here (what a SIGKILL at this step would leave behind)."""


class FaultAt:
    """Raises ``Crash`` the first time an operation reaches ``step``; counts every step."""

    def __init__(self, step: str, *, armed: bool = True) -> None:
        """Crash once at ``step`` (once ``armed``)."""
        self.step = step
        self.armed = armed
        self.fired = False
        self.seen: Counter[str] = Counter()

    async def at(self, step: str, session_id: str) -> None:
        """Crash at the armed step, once."""
        del session_id
        self.seen[step] += 1
        if self.armed and step == self.step and not self.fired:
            self.fired = True
            raise Crash(step)


class HoldAt:
    """Holds the first operation reaching ``step`` until ``release()``; ``reached`` tells."""

    def __init__(self, step: str) -> None:
        """Hold at ``step`` once."""
        self.step = step
        self.reached = asyncio.Event()
        self._go = asyncio.Event()
        self.armed = False

    def release(self) -> None:
        """Let the held operation go on."""
        self._go.set()

    async def at(self, step: str, session_id: str) -> None:
        """Hold at the armed step, once."""
        del session_id
        if self.armed and step == self.step and not self.reached.is_set():
            self.reached.set()
            await self._go.wait()


class CountingHold(HoldAt):
    """``HoldAt`` that also counts every step any operation reaches."""

    def __init__(self, step: str) -> None:
        """Hold at ``step`` once (once armed); count all."""
        super().__init__(step)
        self.seen: Counter[str] = Counter()

    async def at(self, step: str, session_id: str) -> None:
        """Count, then hold if this is the armed step."""
        self.seen[step] += 1
        await super().at(step, session_id)
