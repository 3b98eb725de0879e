"""The sandbox's test-card table and expiry rule."""

from __future__ import annotations

from datetime import date

import pytest

from kassa.adapters.processor.rules import decide, expired, needs_challenge, references
from kassa.service.ports import Outcome

TODAY = date(2026, 6, 15)


@pytest.mark.parametrize(
    ("pan", "outcome", "code"),
    [
        ("4242424242424242", Outcome.APPROVED, None),
        ("5555555555554444", Outcome.APPROVED, None),
        ("4000000000003220", Outcome.CHALLENGE, None),
        ("4000000000000002", Outcome.DECLINED, "card_number_does_not_exist"),
        ("4000000000009995", Outcome.DECLINED, "provider_exceeds_amount_limit"),
        ("4000000000000069", Outcome.DECLINED, "bank_card_expired"),
        ("4000000000000119", Outcome.DECLINED, "provider_internal_error"),
        ("4111111111111111", Outcome.APPROVED, None),
    ],
)
def test_test_card_table(pan: str, outcome: Outcome, code: str | None) -> None:
    """Each documented test card gives its documented answer."""
    decision = decide(
        pan,
        month="12",
        year="30",
        today=TODAY,
        challenge=needs_challenge(pan, initiator=None),
        three_ds_passed=False,
    )
    assert decision.outcome is outcome
    assert decision.code == code


def test_past_expiry_declines_as_expired() -> None:
    """A card whose month has passed is declined bank_card_expired; this month still works."""
    assert expired("05", "26", TODAY)
    assert not expired("06", "26", TODAY)
    decision = decide(
        "4242424242424242",
        month="01",
        year="20",
        today=TODAY,
        challenge=False,
        three_ds_passed=False,
    )
    assert decision.code == "bank_card_expired"


def test_merchant_initiated_charges_skip_3ds_and_client_ones_need_it() -> None:
    """MIT never challenges (even the 3DS card); CIT always does."""
    assert not needs_challenge("4000000000003220", initiator="merchant")
    assert needs_challenge("4242424242424242", initiator="client")


def test_references_are_deterministic_digits() -> None:
    """The rrn has 12 digits, auth_code 6, the same for the same operation."""
    rrn, code = references("pm_1")
    assert (rrn, code) == references("pm_1")
    assert len(rrn) == 12
    assert rrn.isdigit()
    assert len(code) == 6
    assert code.isdigit()
