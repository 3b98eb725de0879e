"""The retry schedule of webhook deliveries: failed attempt n → next delay, and when to give up.

Delays grow geometrically from ``first_delay`` (*``factor`` per failure) and are capped at
``max_interval`` (15 minutes by default). Each delay is shortened by a random share of up to
``jitter`` so that deliveries which failed together (a receiver outage) do not retry in
lockstep; ``factor * (1 - jitter) ≥ 1`` keeps every delay at least as long as the one before,
until the cap.

The give-up clock starts at the **first attempt**, not at enqueue: a webhook waiting behind an
earlier one of its session (per-session order) is not expired by that wait. The last retry is
moved to the give-up time if the next delay would pass it, so a delivery is tried once more at
the deadline and then marked failed.

With the defaults (5 s, *2, 15 min cap, 30 min) the attempts fall near 0 s, 5 s, 15 s, 35 s,
75 s, 2.5 min, 5 min, 10.5 min, 21 min and 30 min (jitter makes them a little earlier).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


class ScheduleError(ValueError):
    """A retry schedule whose numbers cannot work."""


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Growing, jittered, capped delays between attempts and a give-up deadline."""

    first_delay: timedelta = timedelta(seconds=5)
    max_interval: timedelta = timedelta(minutes=15)
    give_up_after: timedelta = timedelta(minutes=30)
    factor: float = 2.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        """Refuse schedules that would not grow, would exceed the cap or never wait."""
        if self.first_delay <= timedelta(0):
            msg = "first_delay must be positive"
            raise ScheduleError(msg)
        if self.max_interval < self.first_delay:
            msg = "max_interval must be at least first_delay"
            raise ScheduleError(msg)
        if self.give_up_after < timedelta(0):
            msg = "give_up_after must not be negative"
            raise ScheduleError(msg)
        if not 0 <= self.jitter < 1:
            msg = "jitter must be in [0, 1)"
            raise ScheduleError(msg)
        if self.factor * (1 - self.jitter) < 1:
            msg = "factor * (1 - jitter) must be at least 1, or delays could shrink"
            raise ScheduleError(msg)

    def base_delay(self, failures: int) -> timedelta:
        """The un-jittered delay after the ``failures``-th failed attempt (1-based), capped."""
        if failures < 1:
            msg = "failures counts from 1"
            raise ScheduleError(msg)
        first = self.first_delay.total_seconds()
        cap = self.max_interval.total_seconds()
        try:
            grown = first * self.factor ** (failures - 1)
        except OverflowError:
            grown = cap
        return timedelta(seconds=min(grown, cap))

    def delay(self, failures: int, rand: float) -> timedelta:
        """The delay after the ``failures``-th failure; ``rand`` in [0, 1) picks the jitter."""
        if not 0 <= rand < 1:
            msg = "rand must be in [0, 1)"
            raise ScheduleError(msg)
        return self.base_delay(failures) * (1 - self.jitter * rand)

    def give_up_at(self, first_attempt_at: datetime) -> datetime:
        """When a delivery whose first attempt starts at ``first_attempt_at`` is given up."""
        return first_attempt_at + self.give_up_after

    def next_attempt(
        self,
        failures: int,
        now: datetime,
        give_up_at: datetime,
        rand: float,
    ) -> datetime | None:
        """When to try again after the ``failures``-th failure at ``now``; None: give up.

        Never later than ``give_up_at``; an attempt that fails at or after it is the last.
        """
        if now >= give_up_at:
            return None
        return min(now + self.delay(failures, rand), give_up_at)
