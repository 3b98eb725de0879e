"""Ledger transactions balance by construction; splits add up; refunds reverse them pro rata."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kassa.domain.errors import InvalidRequest, UnbalancedTransaction
from kassa.domain.ledger import (
    EntryKind,
    LedgerEntry,
    LedgerTransaction,
    Posting,
    moves,
    violations,
)
from kassa.domain.split import MERCHANT, SplitRule, allocate, parse_rules, reversal

NOW = datetime(2024, 5, 27, tzinfo=UTC)


def tx(*postings: Posting) -> LedgerTransaction:
    """A capture transaction with ``postings``."""
    return LedgerTransaction("lt_1", "pj", "ps", "pm", EntryKind.CAPTURE, "usd", NOW, postings)


def test_unbalanced_transaction_cannot_be_built() -> None:
    """Postings must sum to zero and be non-zero."""
    with pytest.raises(UnbalancedTransaction):
        tx(Posting("holds", -100, "pm"), Posting("merchant_balance", 99, "pm"))
    with pytest.raises(UnbalancedTransaction):
        tx()
    with pytest.raises(UnbalancedTransaction):
        tx(Posting("holds", 0, "pm"))


@given(st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from("abcd"), st.integers(1, 10**9))))
def test_moves_always_balance(pairs: list[tuple[str, str, int]]) -> None:
    """Any set of from→to moves gives postings summing to zero."""
    postings = moves(pairs, "op")
    assert sum(p.amount for p in postings) == 0
    assert all(p.amount != 0 and p.operation_id == "op" for p in postings)


def entry(kind: str, account: str, amount: int, tx_id: str = "t") -> LedgerEntry:
    """A stored posting of session ``ps``."""
    return LedgerEntry(tx_id, "pj", "ps", kind, "usd", account, amount, "op")


def test_ledger_check_finds_refunds_above_captured() -> None:
    """Refunds of a session may not pass what it captured."""
    good = [
        entry("capture", "holds", -100, "c"),
        entry("capture", "merchant_balance", 100, "c"),
        entry("refund", "merchant_balance", -100, "r"),
        entry("refund", "payer_funds", 100, "r"),
    ]
    assert (
        violations(
            [
                entry("authorise", "payer_funds", -100, "a"),
                entry("authorise", "holds", 100, "a"),
                *good,
            ]
        )
        == []
    )
    over = [
        *good,
        entry("refund", "merchant_balance", -1, "r2"),
        entry("refund", "payer_funds", 1, "r2"),
    ]
    problems = violations(over)
    assert any("exceeds captured" in p for p in problems)
    assert any("negative" in p for p in problems)


def test_ledger_check_finds_unbalanced_transactions() -> None:
    """A stored transaction that does not sum to zero is reported."""
    assert violations([entry("capture", "holds", -1)]) != []


rules = st.lists(
    st.one_of(
        st.builds(lambda a: {"amount": a}, st.integers(1, 500)),
        st.builds(lambda p: {"percent": p}, st.integers(1, 40)),
    ),
    max_size=3,
)


@given(rules, st.booleans(), st.integers(1, 10**7))
def test_split_parts_add_up_to_the_captured_amount(
    raw: list[dict[str, int]], remains: bool, captured: int
) -> None:
    """allocate() gives every recipient its part and the parts sum to the captured amount."""
    items = [{"contractor_alias": f"r{i}", **r} for i, r in enumerate(raw)]
    if remains:
        items.append({"contractor_alias": "rest", "remains": True})
    percents = sum(r.get("percent", 0) for r in raw)
    if percents > 100:
        with pytest.raises(InvalidRequest, match="more than 100"):
            parse_rules(items)
        return
    parsed = parse_rules(items)
    fixed = sum(r.get("amount", 0) for r in raw)
    if fixed + sum(captured * r.get("percent", 0) // 100 for r in raw) > captured:
        with pytest.raises(InvalidRequest):
            allocate(captured, parsed)
        return
    parts = allocate(captured, parsed)
    assert sum(parts.values()) == captured
    assert all(v >= 0 for v in parts.values())
    assert MERCHANT in parts


@given(
    st.lists(st.integers(0, 10**6), min_size=1, max_size=4),
    st.lists(st.integers(1, 10**6), max_size=6),
)
def test_refund_reversals_stay_within_each_part(shares: list[int], refunds: list[int]) -> None:
    """Cumulative pro-rata reversal: each refund is fully spread, no part goes below zero."""
    parts = {MERCHANT if i == 0 else f"r{i}": v for i, v in enumerate(shares)}
    captured = sum(parts.values())
    given_back = dict.fromkeys(parts, 0)
    total = 0
    for wanted in refunds:
        amount = min(wanted, captured - total)
        back = reversal(parts, total, total + amount)
        assert sum(back.values()) == amount
        for k, v in back.items():
            given_back[k] += v
        total += amount
        assert all(0 <= given_back[k] <= parts[k] for k in parts)
    if total == captured:
        assert given_back == parts


def test_split_rules_are_validated_naming_the_field() -> None:
    """Bad split input is invalid_request naming the item."""
    with pytest.raises(InvalidRequest, match=r"revenue_split_info\[0\]"):
        parse_rules([{"contractor_alias": "a", "percent": 101}])
    with pytest.raises(InvalidRequest, match="exactly one"):
        parse_rules([{"contractor_alias": "a", "percent": 10, "amount": 5}])
    assert parse_rules([{"contractor_alias": "a", "remains": True}]) == (
        SplitRule("a", remains=True),
    )
