"""Reconciliation: does the ledger say what the operations say? Each problem names its operation.

``kassa ledger check`` runs this beside the ledger's own invariants (``ledger.violations``):

- per payment, its postings on ``holds`` sum to what it holds now;
- its capture postings sum to what it captured (so a succeeded payment has them);
- the captured accounts (``merchant_balance``, ``split:*``) hold captured - accepted refunds;
- every accepted refund or chargeback has postings returning exactly its amount, and a refund
  that is not accepted has none;
- per payout, what left the wallet is what is in flight plus what was paid out, and its
  in-flight and paid postings equal its reservation and payment;
- per project and currency, ``holds`` equals the sum of the open authorisations and
  ``in_flight_payouts`` the sum of the live payouts' reservations;
- no posting of a session names an operation that session does not hold.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from kassa.domain.ledger import Account, EntryKind
from kassa.domain.refund import RefundStatus

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kassa.domain.ledger import LedgerEntry
    from kassa.domain.payment import AcquiringPayment
    from kassa.domain.payout import Payout
    from kassa.domain.session import PaymentSession

_HOLDS = Account.HOLDS.value
_FLIGHT = Account.IN_FLIGHT_PAYOUTS.value
_PAYER = Account.PAYER_FUNDS.value


def _captured_account(account: str) -> bool:
    return account == Account.MERCHANT_BALANCE.value or account.startswith("split:")


def _payment_problems(payment: AcquiringPayment, by_op: dict[str, list[LedgerEntry]]) -> list[str]:
    own = by_op.get(payment.id, [])
    problems = []
    on_hold = sum(e.amount for e in own if e.account == _HOLDS)
    if on_hold != payment.held:
        problems.append(
            f"payment {payment.id}: holds {payment.held} but its hold postings sum to {on_hold}"
        )
    captured = sum(
        e.amount for e in own if e.kind == EntryKind.CAPTURE.value and e.account != _HOLDS
    )
    if captured != payment.captured:
        problems.append(
            f"payment {payment.id}: captured {payment.captured} but its capture postings "
            f"sum to {captured}"
        )
    accepted = 0
    ops = {payment.id}
    for refund in payment.refunds:
        ops.add(refund.id)
        returned = sum(e.amount for e in by_op.get(refund.id, []) if e.account == _PAYER)
        expected = refund.amount.minor if refund.status is RefundStatus.ACCEPTED else 0
        accepted += expected
        if returned != expected:
            problems.append(
                f"refund {refund.id} of payment {payment.id} ({refund.status}): returned "
                f"{returned} to the payer, expected {expected}"
            )
    kept = sum(e.amount for op in ops for e in by_op.get(op, []) if _captured_account(e.account))
    if kept != payment.captured - accepted:
        problems.append(
            f"payment {payment.id}: captured accounts keep {kept}, expected captured "
            f"{payment.captured} - refunded {accepted} = {payment.captured - accepted}"
        )
    return problems


def _payout_problems(payout: Payout, own: list[LedgerEntry]) -> list[str]:
    def on(account: str) -> int:
        return sum(e.amount for e in own if e.account == account)

    problems = []
    flight, paid = on(_FLIGHT), on(Account.EXTERNAL_PAYEES.value)
    if flight != payout.reserved:
        problems.append(
            f"payout {payout.id}: reserves {payout.reserved} but its in-flight postings sum "
            f"to {flight}"
        )
    if paid != payout.paid:
        problems.append(f"payout {payout.id}: paid {payout.paid} but its postings paid {paid}")
    if -on(Account.PAYOUT_WALLET.value) != payout.reserved + payout.paid:
        problems.append(
            f"payout {payout.id}: took {-on(Account.PAYOUT_WALLET.value)} from the wallet, "
            f"reserves {payout.reserved} and paid {payout.paid}"
        )
    return problems


def ledger_vs_state(
    sessions: Iterable[PaymentSession], entries: Iterable[LedgerEntry]
) -> list[str]:
    """Every disagreement between the operations' state and their postings."""
    by_session: dict[str, dict[str, list[LedgerEntry]]] = defaultdict(lambda: defaultdict(list))
    holds_posted: dict[tuple[str, str, str], int] = defaultdict(int)
    for e in entries:
        if e.session_id is not None:
            by_session[e.session_id][e.operation_id].append(e)
        if e.account in {_HOLDS, _FLIGHT}:
            holds_posted[e.project_id, e.account, e.currency] += e.amount
    problems: list[str] = []
    holds_open: dict[tuple[str, str, str], int] = defaultdict(int)
    seen: set[str] = set()
    for session in sessions:
        seen.add(session.id)
        by_op = by_session.get(session.id, {})
        known: set[str] = set()
        for payment in session.payments:
            known |= {payment.id, *(r.id for r in payment.refunds)}
            holds_open[session.project_id, _HOLDS, payment.amount.currency] += payment.held
            problems += _payment_problems(payment, by_op)
        for payout in session.payouts:
            known.add(payout.id)
            holds_open[session.project_id, _FLIGHT, payout.amount.currency] += payout.reserved
            problems += _payout_problems(payout, by_op.get(payout.id, []))
        problems += [
            f"session {session.id}: postings name {op}, which the session does not hold"
            for op in sorted(set(by_op) - known)
        ]
    problems += [
        f"session {sid}: has postings but no such session" for sid in sorted(set(by_session) - seen)
    ]
    for key in sorted(set(holds_posted) | set(holds_open)):
        if holds_posted.get(key, 0) != holds_open.get(key, 0):
            project, account, currency = key
            what = "open authorisations" if account == _HOLDS else "live payouts' reservations"
            problems.append(
                f"project {project} {account} ({currency}) {holds_posted.get(key, 0)} but the "
                f"{what} sum to {holds_open.get(key, 0)}"
            )
    return problems
