"""Read side for the CLI and dashboard: the ledger check, with reconciliation.

``check_ledger`` is what ``kassa ledger check`` prints: the ledger's own invariants, the
balance rows against their postings, every operation's state against its postings
(``domain/reconcile.py``), and — given the processor — the processor's own record of what it
did against kassa's state (an acquirer's settlement report, in effect).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kassa.domain.ledger import balance_mismatches, violations
from kassa.domain.operation import CallKind
from kassa.domain.payment import PaymentStatus
from kassa.domain.reconcile import ledger_vs_state
from kassa.domain.refund import RefundStatus

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from kassa.domain.payment import AcquiringPayment
    from kassa.domain.payout import Payout
    from kassa.domain.session import PaymentSession
    from kassa.service.ports import Processor, ProcessorRecord, Store

PAGE = 500


@dataclass(frozen=True, slots=True)
class LedgerReport:
    """What ``kassa ledger check`` found."""

    postings: int
    transactions: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        """True when every invariant holds."""
        return not self.problems


async def every_session(store: Store) -> AsyncIterator[PaymentSession]:
    """Every session of every project, a page at a time."""
    after = ""
    while True:
        page = await store.sessions_after(after, PAGE)
        for session in page:
            yield session
        if len(page) < PAGE:
            return
        after = page[-1].id


def _payment_vs_processor(payment: AcquiringPayment, done: list[ProcessorRecord]) -> list[str]:
    """A payment against the processor's calls for it; a call in flight is not yet judged."""
    problems = []
    approved = any(r.kind == CallKind.AUTHORIZE.value and r.outcome == "approved" for r in done)
    captured = sum(r.amount for r in done if r.kind == CallKind.CAPTURE.value)
    released = any(r.kind == CallKind.RELEASE.value for r in done)
    if released and captured:
        problems.append(f"payment {payment.id}: the processor both captured and released it")
    if payment.call is None:
        if (payment.held or payment.captured) and not approved:
            problems.append(
                f"payment {payment.id}: kassa holds money the processor never authorised"
            )
        if approved and not (payment.held or payment.captured or released):
            problems.append(
                f"payment {payment.id}: authorised at the processor, but kassa ({payment.status}) "
                "neither holds, captured nor released it"
            )
        if captured != payment.captured:
            problems.append(
                f"payment {payment.id}: the processor captured {captured}, kassa recorded "
                f"{payment.captured} ({payment.status})"
            )
        if released and payment.status is not PaymentStatus.FAILED:
            problems.append(
                f"payment {payment.id}: released at the processor, {payment.status} here"
            )
    for refund in payment.refunds:
        if refund.is_chargeback or refund.call is not None:
            continue
        accepted = any(r.operation_id == refund.id and r.outcome == "accepted" for r in done)
        if accepted != (refund.status is RefundStatus.ACCEPTED):
            problems.append(
                f"refund {refund.id}: accepted at the processor: {accepted}; kassa: {refund.status}"
            )
    return problems


def _payout_vs_processor(payout: Payout, done: list[ProcessorRecord]) -> list[str]:
    """A payout against the rail's record of it (a call in flight is not yet judged)."""
    if payout.call is not None:
        return []
    paid = [r for r in done if r.kind == CallKind.PAYOUT.value]
    accepted = any(r.outcome == "accepted" for r in paid)
    problems = []
    if accepted != (payout.paid > 0):
        problems.append(
            f"payout {payout.id}: paid out at the processor: {accepted}; kassa: "
            f"{payout.status}, paid {payout.paid}"
        )
    if sum(r.amount for r in paid if r.outcome == "accepted") not in {0, payout.paid}:
        problems.append(f"payout {payout.id}: the processor paid another amount")
    return problems


def processor_vs_state(sessions: list[PaymentSession], records: list[ProcessorRecord]) -> list[str]:
    """Every disagreement between the processor's record and kassa's operations."""
    by_op: dict[str, list[ProcessorRecord]] = defaultdict(list)
    for record in records:
        by_op[record.operation_id].append(record)
    problems: list[str] = []
    known: set[str] = set()
    for session in sessions:
        for payment in session.payments:
            ops = {payment.id, *(r.id for r in payment.refunds)}
            known |= ops
            done = [r for op in ops for r in by_op.get(op, [])]
            problems += _payment_vs_processor(payment, done)
        for payout in session.payouts:
            known.add(payout.id)
            problems += _payout_vs_processor(payout, by_op.get(payout.id, []))
    problems += [
        f"the processor acted on {op}, which kassa does not know"
        for op in sorted(set(by_op) - known)
    ]
    return problems


async def check_ledger(store: Store, processor: Processor | None = None) -> LedgerReport:
    """Replay every posting: invariants, balance rows, operations, and the processor's record."""
    entries = await store.ledger_entries()
    sessions = [s async for s in every_session(store)]
    problems = violations(entries)
    problems += balance_mismatches(entries, await store.balances())
    problems += ledger_vs_state(sessions, entries)
    if processor is not None:
        problems += processor_vs_state(sessions, await processor.records())
    return LedgerReport(
        postings=len(entries),
        transactions=len({e.transaction_id for e in entries}),
        problems=problems,
    )
