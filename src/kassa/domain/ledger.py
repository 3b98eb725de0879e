"""Append-only double-entry ledger: accounts, postings, balanced transactions, invariants.

Accounts exist per project and currency. A payment moves money
``payer_funds → holds`` (authorised), ``holds → merchant_balance`` (+ ``split:<alias>``
accounts, captured) or ``holds → payer_funds`` (released); a refund or chargeback moves it
back from the captured accounts to ``payer_funds``. A top-up moves ``merchant_bank →
payout_wallet``; a payout reserves ``payout_wallet → in_flight_payouts`` and then settles
``in_flight_payouts → external_payees`` or returns to the wallet. ``payer_funds``,
``merchant_bank`` and ``external_payees`` are the outside world and the only accounts that
may go negative.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime  # noqa: TC003 - dataclass field type
from enum import StrEnum
from typing import TYPE_CHECKING

from kassa.domain.errors import InsufficientFunds, InternalError, KassaError, UnbalancedTransaction
from kassa.domain.split import MERCHANT

if TYPE_CHECKING:
    from collections.abc import Iterable


class Account(StrEnum):
    """The fixed accounts of a project and currency (split recipients add ``split:<alias>``)."""

    PAYER_FUNDS = "payer_funds"  # external: the payers' cards
    HOLDS = "holds"  # authorised, not captured
    MERCHANT_BALANCE = "merchant_balance"  # captured, refundable
    PAYOUT_WALLET = "payout_wallet"
    IN_FLIGHT_PAYOUTS = "in_flight_payouts"
    EXTERNAL_PAYEES = "external_payees"
    MERCHANT_BANK = "merchant_bank"  # external: where the project's prefunding wires come from
    FEES = "fees"


class EntryKind(StrEnum):
    """What a ledger transaction records."""

    AUTHORISE = "authorise"
    CAPTURE = "capture"
    RELEASE = "release"
    REFUND = "refund"
    CHARGEBACK = "chargeback"
    TOPUP = "topup"
    RESERVE = "reserve"
    SETTLE = "settle"
    RETURN = "return"


SPLIT_PREFIX = "split:"
EXTERNAL = frozenset(
    {Account.PAYER_FUNDS.value, Account.EXTERNAL_PAYEES.value, Account.MERCHANT_BANK.value}
)
CAPTURED_KINDS = frozenset({EntryKind.CAPTURE.value})
RETURN_KINDS = frozenset({EntryKind.REFUND.value, EntryKind.CHARGEBACK.value})


def overdrawn(account: str, currency: str) -> KassaError:
    """The error when a debit would take an internal account below zero.

    For the payout wallet it is the merchant's ``insufficient_funds``; anywhere else a bug.
    """
    if account == Account.PAYOUT_WALLET.value:
        return InsufficientFunds(
            f"amount_details.amount: the {currency} payout wallet does not cover it"
        )
    return InternalError(f"ledger: account {account} ({currency}) would go negative")


def part_account(part: str) -> str:
    """The account holding a split part (``MERCHANT`` is the project's balance)."""
    return Account.MERCHANT_BALANCE.value if part == MERCHANT else f"{SPLIT_PREFIX}{part}"


@dataclass(frozen=True, slots=True)
class Posting:
    """One leg: ``amount`` minor units (signed) on ``account``, caused by ``operation_id``."""

    account: str
    amount: int
    operation_id: str


@dataclass(frozen=True, slots=True)
class LedgerTransaction:
    """Postings that sum to zero in one currency; cannot be built otherwise."""

    id: str
    project_id: str
    session_id: str | None
    operation_id: str
    kind: EntryKind
    currency: str
    created_at: datetime
    postings: tuple[Posting, ...]

    def __post_init__(self) -> None:
        """Refuse an empty, zero-amount or unbalanced transaction."""
        if not self.postings or any(p.amount == 0 for p in self.postings):
            msg = f"ledger transaction {self.id}: needs non-zero postings"
            raise UnbalancedTransaction(msg)
        total = sum(p.amount for p in self.postings)
        if total != 0:
            msg = f"ledger transaction {self.id}: postings sum to {total}, not 0"
            raise UnbalancedTransaction(msg)


def moves(pairs: Iterable[tuple[str, str, int]], operation_id: str) -> tuple[Posting, ...]:
    """Postings for ``(from_account, to_account, amount)`` moves; zero amounts are dropped."""
    sums: dict[str, int] = defaultdict(int)
    for source, target, amount in pairs:
        sums[source] -= amount
        sums[target] += amount
    return tuple(Posting(a, v, operation_id) for a, v in sums.items() if v != 0)


@dataclass(frozen=True, slots=True)
class Balance:
    """A stored balance row: what the postings of one internal account sum to."""

    project_id: str
    account: str
    currency: str
    amount: int


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A stored posting with its transaction's context, as ``kassa ledger check`` reads it."""

    transaction_id: str
    project_id: str
    session_id: str | None
    kind: str
    currency: str
    account: str
    amount: int
    operation_id: str


def violations(entries: Iterable[LedgerEntry]) -> list[str]:
    """Every broken invariant, described; an empty list means the ledger is sound.

    Checked: each transaction sums to zero in one currency; every posting names its
    operation; no internal account goes negative (per project and currency); per session the
    refunds and chargebacks never exceed what was captured.
    """
    problems: list[str] = []
    per_tx: dict[str, int] = defaultdict(int)
    tx_currency: dict[str, set[str]] = defaultdict(set)
    balances: dict[tuple[str, str, str], int] = defaultdict(int)
    captured: dict[tuple[str, str], int] = defaultdict(int)
    returned: dict[tuple[str, str], int] = defaultdict(int)
    for e in entries:
        per_tx[e.transaction_id] += e.amount
        tx_currency[e.transaction_id].add(e.currency)
        balances[e.project_id, e.account, e.currency] += e.amount
        if not e.operation_id:
            problems.append(f"transaction {e.transaction_id}: a posting names no operation")
        if e.session_id is None:
            continue
        if e.kind in CAPTURED_KINDS and e.account == Account.HOLDS.value:
            captured[e.session_id, e.currency] -= e.amount
        elif e.kind in RETURN_KINDS and e.account == Account.PAYER_FUNDS.value:
            returned[e.session_id, e.currency] += e.amount
    problems += [f"transaction {t}: postings sum to {s}" for t, s in per_tx.items() if s]
    problems += [f"transaction {t}: mixes currencies" for t, c in tx_currency.items() if len(c) > 1]
    problems += [
        f"project {p} account {a} ({c}) is negative: {v}"
        for (p, a, c), v in balances.items()
        if v < 0 and a not in EXTERNAL
    ]
    problems += [
        f"session {s} ({c}): refunded {v} exceeds captured {captured[s, c]}"
        for (s, c), v in returned.items()
        if v > captured[s, c]
    ]
    return problems


def balance_mismatches(entries: Iterable[LedgerEntry], balances: Iterable[Balance]) -> list[str]:
    """Every balance row that differs from the sum of its postings (internal accounts only)."""
    sums: dict[tuple[str, str, str], int] = defaultdict(int)
    for e in entries:
        if e.account not in EXTERNAL:
            sums[e.project_id, e.account, e.currency] += e.amount
    stored = {(b.project_id, b.account, b.currency): b.amount for b in balances}
    problems = []
    for key in sorted(set(sums) | set(stored)):
        posted, kept = sums.get(key, 0), stored.get(key, 0)
        if posted != kept:
            project, account, currency = key
            problems.append(
                f"project {project} account {account} ({currency}): balance row {kept} "
                f"but its postings sum to {posted}"
            )
    return problems
