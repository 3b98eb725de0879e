"""The acquiring part of the repository contract: payments, ledger, tokens, due sessions.

Run on SQLite, PostgreSQL and the in-memory fake.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from kassa.domain.errors import InsufficientFunds, InternalError
from kassa.domain.ids import IdPrefix, new_id
from kassa.domain.instrument import BankCard, RecurrentCharge
from kassa.domain.ledger import EntryKind, LedgerTransaction, moves
from kassa.domain.money import Money
from kassa.domain.operation import Awaiting, CallKind, PendingCall
from kassa.domain.payment import (
    AcquiringPayment,
    PaymentError,
    PaymentStatus,
    RecurrentInfo,
)
from kassa.domain.recurrent import Initiator, RecurrentToken
from kassa.domain.refund import Refund, RefundStatus, TransactionInfo
from kassa.domain.session import ApiVersion, ReplyTo
from kassa.domain.split import SplitRule
from store_contract import T0, card, project, session


def full_payment() -> AcquiringPayment:
    """A payment using every stored field."""
    waiting = AcquiringPayment(
        id=new_id(IdPrefix.PAYMENT),
        status=PaymentStatus.IN_PROGRESS,
        created_at=T0,
        updated_at=T0,
        amount=Money(10000, "usd"),
        instrument=BankCard(card()),
        customer={"reference": "u"},
        payment_options={"return_url": "https://x.example", "recurrent": True},
        metadata=[1, "two"],
        has_metadata=True,
        splits=(
            SplitRule("a", amount=5),
            SplitRule("b", percent="12.5"),
            SplitRule("c", remains=True),
        ),
    ).wait_for(Awaiting.CUSTOMER, T0 + timedelta(hours=1), T0, {"type": "redirect"})
    running = Refund(
        new_id(IdPrefix.REFUND),
        RefundStatus.IN_PROGRESS,
        Money(2, "usd"),
        T0,
        call=PendingCall(CallKind.REFUND, "rf_x:refund", 2, T0 + timedelta(seconds=30)),
    )
    refund = Refund(
        new_id(IdPrefix.REFUND),
        RefundStatus.ACCEPTED,
        Money(5, "usd"),
        T0,
        is_chargeback=True,
        finished_at=T0,
        transaction_info=TransactionInfo("000000000001", "654321"),
    )
    return replace(
        waiting,
        three_ds_token="secret",
        transaction_info=TransactionInfo("123456789012", "123456"),
        error=PaymentError("x", "y"),
        held=10000,
        captured=7,
        refunds=(refund, running),
        recurrent=RecurrentInfo("tok", T0),
        closing=PaymentError("cancelled", "by the test"),
        authorizations=2,
    )


def calling_payment() -> AcquiringPayment:
    """A recurrent payment in progress, waiting on its capture call."""
    return AcquiringPayment(
        id=new_id(IdPrefix.PAYMENT),
        status=PaymentStatus.IN_PROGRESS,
        created_at=T0,
        updated_at=T0,
        amount=Money(700, "eur"),
        instrument=RecurrentCharge("r" * 64, Initiator.CLIENT, card()),
        call=PendingCall(CallKind.CAPTURE, "pm_x:capture", 700, T0 + timedelta(seconds=30)),
        held=700,
    )


class AcquiringStoreContract:
    """Mix into a test class that provides a ``store`` fixture."""

    async def test_payments_read_back_unchanged_inside_their_session(self, store: Any) -> None:
        """Every payment field survives the session ``doc``; the session is found by payment."""
        owner = project()
        await store.add_project(owner)
        payment = full_payment()
        stored = replace(
            session(owner.id),
            payments=(calling_payment(), payment),
            deadline_at=payment.deadline_at,
            replies=(ReplyTo("key-1", "owner-1", ApiVersion.V1),),
        )
        async with store.unit_of_work() as uow:
            uow.add_session(stored)
            await uow.commit()
        assert await store.get_session(owner.id, stored.id) == stored
        assert await store.find_session_by_payment(payment.id) == stored
        assert await store.find_session_by_payment("pm_unknown") is None

    async def test_a_payment_added_by_an_update_finds_its_session(self, store: Any) -> None:
        """start/payment on a created session: the update makes the session findable by payment."""
        owner = project()
        await store.add_project(owner)
        created = session(owner.id)
        async with store.unit_of_work() as uow:
            uow.add_session(created)
            await uow.commit()
        payment = full_payment()
        async with store.unit_of_work() as uow:
            uow.update_session(replace(created, payments=(payment,)))
            await uow.commit()
        found = await store.find_session_by_payment(payment.id)
        assert found is not None
        assert (found.id, found.payments) == (created.id, (payment,))

    async def test_sessions_due_are_those_past_their_deadline(self, store: Any) -> None:
        """sessions_due returns only sessions whose deadline has passed, oldest first."""
        owner = project()
        await store.add_project(owner)
        early = session(owner.id, deadline_at=T0 + timedelta(minutes=1))
        late = session(owner.id, deadline_at=T0 + timedelta(minutes=5))
        none = session(owner.id)
        async with store.unit_of_work() as uow:
            for s in (late, early, none):
                uow.add_session(s)
            await uow.commit()
        due = await store.sessions_due(T0 + timedelta(minutes=2), 10)
        assert [s.id for s in due] == [early.id]
        due = await store.sessions_due(T0 + timedelta(minutes=9), 10)
        assert [s.id for s in due] == [early.id, late.id]

    async def test_ledger_transactions_commit_with_the_unit_of_work(self, store: Any) -> None:
        """Postings are written only on commit and read back with their context."""
        owner = project()
        await store.add_project(owner)
        tx = LedgerTransaction(
            id=new_id(IdPrefix.LEDGER_TRANSACTION),
            project_id=owner.id,
            session_id="ps_x",
            operation_id="pm_x",
            kind=EntryKind.AUTHORISE,
            currency="usd",
            created_at=T0,
            postings=moves([("payer_funds", "holds", 700)], "pm_x"),
        )
        async with store.unit_of_work() as uow:
            uow.add_ledger_transaction(tx)
        assert [e for e in await store.ledger_entries() if e.project_id == owner.id] == []
        async with store.unit_of_work() as uow:
            uow.add_ledger_transaction(tx)
            await uow.commit()
        mine = [e for e in await store.ledger_entries() if e.project_id == owner.id]
        assert {(e.account, e.amount, e.kind, e.session_id, e.operation_id) for e in mine} == {
            ("payer_funds", -700, "authorise", "ps_x", "pm_x"),
            ("holds", 700, "authorise", "ps_x", "pm_x"),
        }

    async def test_recurrent_token_is_disabled_once_and_scoped(self, store: Any) -> None:
        """A token reads back for its project only; disabling keeps the first time."""
        owner = project()
        await store.add_project(owner)
        token = RecurrentToken("t" * 64, owner.id, "ps_1", "pm_1", "h" * 64, T0)
        async with store.unit_of_work() as uow:
            uow.add_recurrent_token(token)
            await uow.commit()
        assert await store.get_recurrent_token(owner.id, token.token) == token
        assert await store.get_recurrent_token("pj_other", token.token) is None
        for minutes in (1, 2):
            async with store.unit_of_work() as uow:
                uow.disable_recurrent_token(token.disable(T0 + timedelta(minutes=minutes)))
                await uow.commit()
        found = await store.get_recurrent_token(owner.id, token.token)
        assert found.disabled_at == T0 + timedelta(minutes=1)

    async def test_balances_follow_the_postings_and_never_go_below_zero(self, store: Any) -> None:
        """Credits create or grow a row, debits shrink it; an overdraft rolls the batch back."""
        owner = project()
        await store.add_project(owner)

        def tx(pairs: list[tuple[str, str, int]], op: str) -> LedgerTransaction:
            return LedgerTransaction(
                id=new_id(IdPrefix.LEDGER_TRANSACTION),
                project_id=owner.id,
                session_id=None,
                operation_id=op,
                kind=EntryKind.AUTHORISE,
                currency="usd",
                created_at=T0,
                postings=moves(pairs, op),
            )

        async with store.unit_of_work() as uow:
            uow.add_ledger_transaction(tx([("payer_funds", "holds", 700)], "pm_a"))
            uow.add_ledger_transaction(tx([("holds", "merchant_balance", 500)], "pm_a"))
            await uow.commit()
        mine = {(b.account, b.amount) for b in await store.balances() if b.project_id == owner.id}
        assert mine == {("holds", 200), ("merchant_balance", 500)}  # payer_funds is external
        async with store.unit_of_work() as uow:
            uow.add_ledger_transaction(tx([("payer_funds", "merchant_balance", 5)], "pm_b"))
            uow.add_ledger_transaction(tx([("holds", "payer_funds", 201)], "pm_b"))
            with pytest.raises(InternalError, match="holds"):
                await uow.commit()
        after = {(b.account, b.amount) for b in await store.balances() if b.project_id == owner.id}
        assert after == mine  # nothing of the refused batch
        assert len([e for e in await store.ledger_entries() if e.operation_id == "pm_b"]) == 0
        async with store.unit_of_work() as uow:
            uow.add_ledger_transaction(tx([("payout_wallet", "in_flight_payouts", 1)], "po_a"))
            with pytest.raises(InsufficientFunds):
                await uow.commit()

    async def test_sessions_after_pages_through_every_session(self, store: Any) -> None:
        """Pages in id order cover every session of every project exactly once."""
        owners = [project(), project()]
        for owner in owners:
            await store.add_project(owner)
        made = [session(o.id) for o in owners for _ in range(3)]
        async with store.unit_of_work() as uow:
            for s in made:
                uow.add_session(s)
            await uow.commit()
        seen, after = [], ""
        while page := await store.sessions_after(after, 4):
            seen += [s.id for s in page]
            after = page[-1].id
        assert sorted(s.id for s in made) == [i for i in seen if i in {s.id for s in made}]
