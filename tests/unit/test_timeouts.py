"""The three waits time out at their own defaults, to the microsecond, each with its own code.

confirm (ready_to_confirm) 240 min → ``confirm_timeout``; customer action (3DS) 60 min →
``3DS_error``; hold (ready_to_capture) 5 days → ``capture_timeout``. A frozen clock; the
default policy (the same one ``Settings()`` builds); just before and just at each deadline.
"""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from test_service_payments import setup, start

from kassa.bootstrap import acquiring_policy
from kassa.config import Settings
from kassa.service import payments
from kassa.service.deps import AcquiringPolicy
from kassa.service.queries import check_ledger
from kassa.service.timeouts import sweep_timeouts

TICK = timedelta(microseconds=1)


def test_the_defaults_are_the_protocols():
    """240 minutes to confirm, 60 for the customer, 5 days of hold; from Settings too."""
    assert AcquiringPolicy().confirm_timeout == timedelta(minutes=240)
    assert AcquiringPolicy().action_timeout == timedelta(minutes=60)
    assert AcquiringPolicy().hold_timeout == timedelta(days=5)
    built = acquiring_policy(Settings())
    assert (built.confirm_timeout, built.action_timeout, built.hold_timeout) == (
        timedelta(minutes=240),
        timedelta(minutes=60),
        timedelta(days=5),
    )


@pytest.mark.parametrize(
    ("settings", "card", "wait", "code", "held"),
    [
        ({}, "4242424242424242", timedelta(minutes=240), "confirm_timeout", True),
        ({}, "4000000000003220", timedelta(minutes=60), "3DS_error", False),
        (
            {"two_step_capture": True},
            "4242424242424242",
            timedelta(days=5),
            "capture_timeout",
            True,
        ),
    ],
    ids=["confirm", "customer_action", "hold"],
)
async def test_each_wait_expires_exactly_at_its_default_deadline(settings, card, wait, code, held):
    """Not a microsecond before; at the deadline it fails with its code and the hold is freed."""
    deps, project, store, processor, clock = await setup(**settings)
    reply = await payments.start_payment(deps, project, start(project, card))
    sid = orjson.loads(reply.body)["session"]["id"]
    started = clock.now()
    assert await sweep_timeouts(deps, started + wait - TICK) == 0
    session = await store.get_session(project.id, sid)
    assert session is not None
    assert session.payments[0].status.value == "pending"
    clock.set(started + wait)
    assert await sweep_timeouts(deps, started + wait) == 1
    session = await store.get_session(project.id, sid)
    assert session is not None
    payment = session.payments[0]
    assert (payment.status.value, payment.error and payment.error.code) == ("failed", code)
    assert payment.held == 0
    assert (processor.calls[-1][0] == "release") is held  # a hold is released at the processor
    assert (await check_ledger(store, processor)).ok
