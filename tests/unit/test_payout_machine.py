"""A Hypothesis state machine over top-up, start, confirm, cancel and the timeout sweeper.

After every step the ledger holds its invariants and reconciles with the operations and the
processor's record; the wallet balance read from the ledger equals the model's, and it never
goes below zero. Payouts run on the fakes (memory store, sandbox processor, frozen clock).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import orjson
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from test_service_payments import setup

from kassa.domain.errors import InsufficientFunds, InvalidSessionStatus
from kassa.domain.money import Money
from kassa.domain.session import ApiVersion
from kassa.service import payouts, session_actions, wallet
from kassa.service.commands import BankCardInput, CardInput, DraftInput, SessionAction, StartPayout
from kassa.service.queries import check_ledger
from kassa.service.timeouts import sweep_timeouts

CARDS = ["4242424242424242", "4000000000000002"]  # pays, refused by the rail


class PayoutMachine(RuleBasedStateMachine):
    """The model: the wallet, and each payout's expected status and amount."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.balance = 0
        self.payouts: dict[str, tuple[str, int]] = {}  # session id -> (status, amount)
        self.offset = timedelta(0)

    def run(self, coro: Any) -> Any:
        """Run ``coro`` on the machine's own loop."""
        return self.loop.run_until_complete(coro)

    @initialize()
    def open(self) -> None:
        """A project on fresh fakes."""
        self.deps, self.project, self.store, self.processor, self.clock = self.run(setup())

    @rule(amount=st.integers(1, 5000))
    def topup(self, amount: int) -> None:
        """Prefund the wallet."""
        self.run(wallet.topup(self.store, self.clock, self.project.id, Money(amount, "usd")))
        self.balance += amount

    @rule(amount=st.integers(1, 3000), card=st.sampled_from(CARDS))
    def start(self, amount: int, card: str) -> None:
        """init/payout: reserved if the wallet covers it, else insufficient_funds."""
        draft = DraftInput(
            amount=Money(amount, "usd"),
            payout_details=CardInput(bank_card=BankCardInput(card)),
            participant_details={"recipient": {"full_name": "X Y"}},
        )
        cmd = StartPayout(self.project.id, ApiVersion.V1, draft)
        try:
            reply = self.run(payouts.start_payout(self.deps, self.project, cmd))
        except InsufficientFunds:
            assert amount > self.balance
            return
        assert amount <= self.balance
        self.balance -= amount
        sid = orjson.loads(reply.body)["session"]["id"]
        self.payouts[sid] = ("pending" if card == CARDS[0] else "pending-refused", amount)

    def _pick(self, data: st.DataObject) -> str | None:
        # in the order they were started: sorting the ids would order two payouts of one
        # millisecond by their random part, so a replay could pick another one (Hypothesis
        # then fails the run as flaky data generation)
        live = list(self.payouts)
        return data.draw(st.sampled_from(live)) if live else None

    @rule(data=st.data())
    def confirm(self, data: st.DataObject) -> None:
        """Confirm: paid (money gone) or refused (money back); 409 unless pending."""
        sid = self._pick(data)
        if sid is None:
            return
        status, amount = self.payouts[sid]
        action = SessionAction(self.project.id, ApiVersion.V1, sid)
        try:
            self.run(session_actions.confirm(self.deps, self.project, action))
        except InvalidSessionStatus:
            assert not status.startswith("pending")
            return
        assert status.startswith("pending")
        if status == "pending-refused":
            self.balance += amount
            self.payouts[sid] = ("failed", amount)
        else:
            self.payouts[sid] = ("succeeded", amount)

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        """Cancel: the reservation comes back; 409 unless pending."""
        sid = self._pick(data)
        if sid is None:
            return
        status, amount = self.payouts[sid]
        action = SessionAction(self.project.id, ApiVersion.V1, sid)
        try:
            self.run(session_actions.cancel(self.deps, self.project, action))
        except InvalidSessionStatus:
            assert not status.startswith("pending")
            return
        assert status.startswith("pending")
        self.balance += amount
        self.payouts[sid] = ("failed", amount)

    @rule()
    def timeout(self) -> None:
        """The sweeper past the confirm timeout: every pending payout fails, money back."""
        self.offset += timedelta(minutes=241)
        self.run(sweep_timeouts(self.deps, self.clock.now() + self.offset))
        for sid, (status, amount) in list(self.payouts.items()):
            if status.startswith("pending"):
                self.balance += amount
                self.payouts[sid] = ("failed", amount)

    @invariant()
    def ledger_agrees(self) -> None:
        """Ledger sound and reconciled; the wallet is the model's and never below zero."""
        if not hasattr(self, "store"):
            return
        report = self.run(check_ledger(self.store, self.processor))
        assert report.ok, report.problems
        funds = self.run(wallet.balances(self.store, self.project.id))
        assert {m.currency: m.minor for m in funds}.get("usd", 0) == self.balance >= 0

    def teardown(self) -> None:
        """Close the loop."""
        self.loop.close()


PayoutMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_payout_state_machine_keeps_the_ledger_invariants = PayoutMachine.TestCase
