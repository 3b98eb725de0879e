"""Card attempts per client address: a sliding window kept in this process's memory.

Each widget card post from an address counts once; more than ``limit`` posts within
``window`` seconds are refused (429) until the oldest falls out of the window. The counts live
in one process: with ``--workers N`` an address may make up to N times ``limit`` attempts,
and a restart forgets them. The per-token limit (5, in the database) holds across processes.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING

from kassa.domain.errors import TooManyAttempts

if TYPE_CHECKING:
    from collections.abc import Callable


class AttemptWindow:
    """At most ``limit`` attempts per key in any ``window`` seconds."""

    _MAX_KEYS = 100_000  # beyond this many addresses, forget the idle ones first

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Allow ``limit`` attempts per ``window`` seconds; ``clock`` for tests."""
        self.limit = limit
        self.window = window
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}

    def take(self, key: str) -> None:
        """Count an attempt by ``key``, or raise ``TooManyAttempts`` (not counted)."""
        now = self._clock()
        times = self._seen.get(key)
        if times is None:
            if len(self._seen) >= self._MAX_KEYS:
                self._forget_idle(now)
            times = self._seen[key] = deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            msg = f"more than {self.limit} card attempts from this address in {self.window:g} s"
            raise TooManyAttempts(msg)
        times.append(now)

    def blocked(self, key: str) -> bool:
        """True while ``key`` has ``limit`` attempts in the window (nothing is counted)."""
        times = self._seen.get(key)
        if not times:
            return False
        now = self._clock()
        while times and times[0] <= now - self.window:
            times.popleft()
        return len(times) >= self.limit

    def note(self, key: str) -> None:
        """Count one attempt by ``key`` (a failed log-in) without refusing it."""
        if self.blocked(key):
            return
        now = self._clock()
        if key not in self._seen and len(self._seen) >= self._MAX_KEYS:
            self._forget_idle(now)
        self._seen.setdefault(key, deque()).append(now)

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, t in self._seen.items() if not t or t[-1] <= now - self.window]
        for key in idle or list(self._seen):
            del self._seen[key]
