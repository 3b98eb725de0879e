"""Acquiring use cases on the in-memory fakes: no database, no HTTP, a frozen clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import orjson
import pytest

from kassa.domain.errors import InvalidSessionStatus, RefundAmountExceeded
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.money import Money
from kassa.domain.project import Project, ProjectSettings
from kassa.domain.session import ApiVersion
from kassa.service import payments, refunds, session_actions
from kassa.service.commands import (
    BankCardInput,
    CardInput,
    DraftInput,
    RefundPayment,
    SessionAction,
    StartPayment,
)
from kassa.service.queries import check_ledger
from kassa.service.timeouts import sweep_timeouts
from kassa.testing import EPOCH_OF_TESTS, FakeProcessor, FrozenClock, InMemoryStore, fake_deps

if TYPE_CHECKING:
    from kassa.service.deps import Deps


def shop(**settings: bool) -> Project:
    """A project with ``settings``."""
    return Project(
        id=new_id(IdPrefix.PROJECT),
        name="shop",
        public_keys=("pem",),
        created_at=EPOCH_OF_TESTS,
        settings=ProjectSettings(**settings),
    )


def start(project: Project, number: str = "4242424242424242") -> StartPayment:
    """An init/payment command."""
    return StartPayment(
        project.id,
        ApiVersion.V1,
        DraftInput(
            amount=Money(10000, "usd"),
            payment_details=CardInput(bank_card=BankCardInput(number, "12", "30", "123")),
            customer={"reference": "lucky"},
        ),
    )


async def setup(
    **settings: bool,
) -> tuple[Deps, Project, InMemoryStore, FakeProcessor, FrozenClock]:
    """Deps over fakes with one project stored."""
    store, clock = InMemoryStore(), FrozenClock()
    processor = FakeProcessor(clock)
    deps = fake_deps(store=store, clock=clock, processor=processor)
    project = shop(**settings)
    await store.add_project(project)
    return deps, project, store, processor, clock


async def test_init_then_confirm_posts_authorise_and_capture() -> None:
    """The fake processor sees authorise then capture; the ledger is sound."""
    deps, project, store, processor, _ = await setup()
    reply = await payments.start_payment(deps, project, start(project))
    sid = orjson.loads(reply.body)["session"]["id"]
    await session_actions.confirm(deps, project, SessionAction(project.id, ApiVersion.V1, sid))
    assert [c[0] for c in processor.calls] == ["authorize", "capture"]
    report = await check_ledger(store)
    assert report.ok
    assert report.transactions == 2
    assert [r.message.event_type for r in store.outbox()] == [
        "ready_to_confirm",
        "payment_finished",
    ]


async def test_rejected_operation_changes_nothing() -> None:
    """A confirm on a declined payment raises and writes nothing."""
    deps, project, store, _, _ = await setup()
    reply = await payments.start_payment(deps, project, start(project, "4000000000000002"))
    sid = orjson.loads(reply.body)["session"]["id"]
    before = (store.commits, await store.get_session(project.id, sid))
    with pytest.raises(InvalidSessionStatus):
        await session_actions.confirm(deps, project, SessionAction(project.id, ApiVersion.V1, sid))
    assert (store.commits, await store.get_session(project.id, sid)) == before


async def test_sweeper_uses_the_deadline_from_the_policy() -> None:
    """The confirm timeout fires exactly at its deadline, not a microsecond before."""
    deps, project, store, _, clock = await setup()
    deps = replace(deps, acquiring=replace(deps.acquiring, confirm_timeout=timedelta(seconds=5)))
    reply = await payments.start_payment(deps, project, start(project))
    sid = orjson.loads(reply.body)["session"]["id"]
    now = clock.now()
    assert await sweep_timeouts(deps, now + timedelta(seconds=5) - timedelta(microseconds=1)) == 0
    assert await sweep_timeouts(deps, now + timedelta(seconds=5)) == 1
    session = await store.get_session(project.id, sid)
    assert session is not None
    assert session.payments[0].error is not None
    assert session.payments[0].error.code == "confirm_timeout"
    assert (await check_ledger(store)).ok


async def test_refund_above_captured_amount_is_rejected() -> None:
    """A refund larger than what was captured is refund_amount_exceeded."""
    deps, project, _, _, _ = await setup(auto_confirm=True)
    reply = await payments.start_payment(deps, project, start(project))
    sid = orjson.loads(reply.body)["session"]["id"]
    cmd = RefundPayment(project.id, ApiVersion.V1, sid, Money(10001, "usd"))
    with pytest.raises(RefundAmountExceeded):
        await refunds.refund_payment(deps, project, cmd)
