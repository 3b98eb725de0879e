"""The retry schedule of webhook deliveries (``domain/backoff.py``): pure, no clock, no I/O."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kassa.domain.backoff import RetrySchedule, ScheduleError

T0 = datetime(2024, 5, 27, 2, 3, tzinfo=UTC)
DEFAULT = RetrySchedule()
failures = st.integers(min_value=1, max_value=10_000)
rands = st.floats(min_value=0, max_value=1, exclude_max=True)
schedules = st.builds(
    lambda first, extra, give_up, jitter, growth: RetrySchedule(
        first_delay=timedelta(seconds=first),
        max_interval=timedelta(seconds=first + extra),
        give_up_after=timedelta(seconds=give_up),
        jitter=jitter,
        factor=growth / (1 - jitter) * (1 + 1e-9),
    ),
    st.floats(min_value=0.001, max_value=60),
    st.floats(min_value=0, max_value=3600),
    st.floats(min_value=0, max_value=7200),
    st.floats(min_value=0, max_value=0.9),
    st.floats(min_value=1, max_value=4),
)


def test_default_delays_double_from_five_seconds_up_to_fifteen_minutes() -> None:
    """Without jitter the delays are 5, 10, 20 … seconds, then 15 minutes for good."""
    seconds = [DEFAULT.delay(n, 0.0).total_seconds() for n in range(1, 12)]
    assert seconds == [5, 10, 20, 40, 80, 160, 320, 640, 900, 900, 900]


def test_jitter_shortens_a_delay_by_at_most_a_quarter() -> None:
    """The largest random draw still leaves three quarters of the base delay."""
    assert DEFAULT.delay(3, 0.0) == timedelta(seconds=20)
    assert DEFAULT.delay(3, 0.999999) > timedelta(seconds=15)
    assert DEFAULT.delay(3, 0.5) == timedelta(seconds=17.5)


def test_default_schedule_gives_up_thirty_minutes_after_the_first_attempt() -> None:
    """Always failing: about ten attempts, the last one exactly at 30 minutes, then failed."""
    give_up_at = DEFAULT.give_up_at(T0)
    assert give_up_at == T0 + timedelta(minutes=30)
    now, attempts = T0, [T0]
    for n in range(1, 100):
        nxt = DEFAULT.next_attempt(n, now, give_up_at, 0.0)
        if nxt is None:
            break
        attempts.append(nxt)
        now = nxt
    assert attempts[-1] == give_up_at
    assert len(attempts) == 10
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert max(gaps) <= timedelta(minutes=15)


def test_failure_at_or_after_the_deadline_gives_up() -> None:
    """The attempt at the give-up time is the last one."""
    deadline = T0 + timedelta(minutes=30)
    assert DEFAULT.next_attempt(9, deadline, deadline, 0.3) is None
    assert DEFAULT.next_attempt(9, deadline + timedelta(seconds=1), deadline, 0.3) is None


def test_a_retry_that_would_pass_the_deadline_moves_to_the_deadline() -> None:
    """One second before the deadline, the next try is at the deadline, not 15 min later."""
    deadline = T0 + timedelta(minutes=30)
    now = deadline - timedelta(seconds=1)
    assert DEFAULT.next_attempt(9, now, deadline, 0.0) == deadline


def test_zero_give_up_means_a_single_attempt() -> None:
    """``give_up_after=0``: the first failure is final."""
    schedule = RetrySchedule(give_up_after=timedelta(0))
    assert schedule.next_attempt(1, T0, schedule.give_up_at(T0), 0.0) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"first_delay": timedelta(0)},
        {"max_interval": timedelta(seconds=1)},
        {"give_up_after": timedelta(seconds=-1)},
        {"jitter": 1.0},
        {"jitter": -0.1},
        {"factor": 1.2, "jitter": 0.25},
    ],
)
def test_schedules_that_cannot_work_are_refused(kwargs: dict[str, object]) -> None:
    """No zero first delay, cap below it, negative deadline, full jitter, or shrinking delays."""
    with pytest.raises(ScheduleError):
        RetrySchedule(**kwargs)  # type: ignore[arg-type]


def test_attempt_numbers_and_random_draws_out_of_range_are_refused() -> None:
    """Failures count from 1; the random draw lies in [0, 1)."""
    with pytest.raises(ScheduleError):
        DEFAULT.delay(0, 0.5)
    with pytest.raises(ScheduleError):
        DEFAULT.delay(1, 1.0)


@given(schedules, failures, rands)
def test_every_delay_is_positive_and_never_above_the_cap(
    schedule: RetrySchedule,
    n: int,
    rand: float,
) -> None:
    """Property: 0 < delay ≤ max_interval for any attempt number and draw."""
    delay = schedule.delay(n, rand)
    assert timedelta(0) < delay <= schedule.max_interval


@given(schedules, failures, rands, rands)
def test_delays_never_shrink_until_the_cap(
    schedule: RetrySchedule,
    n: int,
    rand_a: float,
    rand_b: float,
) -> None:
    """Property: the next delay is at least this one, whatever the jitter, below the cap."""
    if schedule.base_delay(n + 1) >= schedule.max_interval:
        return
    assert schedule.delay(n + 1, rand_b) >= schedule.delay(n, rand_a) - timedelta(microseconds=1)


@given(schedules, failures, rands, st.floats(min_value=0, max_value=10_000))
def test_next_attempt_is_after_now_and_never_after_the_deadline(
    schedule: RetrySchedule,
    n: int,
    rand: float,
    elapsed: float,
) -> None:
    """Property: a retry falls in (now, give_up_at]; None exactly when now ≥ give_up_at."""
    give_up_at = schedule.give_up_at(T0)
    now = T0 + timedelta(seconds=elapsed)
    nxt = schedule.next_attempt(n, now, give_up_at, rand)
    if now >= give_up_at:
        assert nxt is None
    else:
        assert nxt is not None
        assert now < nxt <= give_up_at
