"""The sandbox processor's deterministic rules: the test-card table and the expiry check.

=========================================  ===============================================
card number                                payment
=========================================  ===============================================
4242 4242 4242 4242, 5555 5555 5555 4444   succeeds
4000 0000 0000 3220                        3DS challenge; pass → succeeds, fail → 3DS_error
4000 0000 0000 0002                        fails ``card_number_does_not_exist``
4000 0000 0000 9995                        fails ``provider_exceeds_amount_limit``
4000 0000 0000 0069                        fails ``bank_card_expired``
4000 0000 0000 0119                        fails ``provider_internal_error``
any other Luhn-valid number                succeeds (a past expiry fails ``bank_card_expired``)
=========================================  ===============================================
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Final

from kassa.domain.recurrent import Initiator
from kassa.service.ports.processor import Decision, Outcome

if TYPE_CHECKING:
    from datetime import date

THREE_DS_CARD: Final = "4000000000003220"
DECLINES: Final[dict[str, tuple[str, str]]] = {
    "4000000000000002": ("card_number_does_not_exist", "invalid card number"),
    "4000000000009995": ("provider_exceeds_amount_limit", "above the provider's amount limit"),
    "4000000000000069": ("bank_card_expired", "card expired"),
    "4000000000000119": ("provider_internal_error", "downstream provider error"),
}
_CENTURY = 2000


def expired(month: str | None, year: str | None, today: date) -> bool:
    """True if ``MM``/``YY`` lies before ``today``'s month (no expiry given: not expired)."""
    if month is None or year is None:
        return False
    return (_CENTURY + int(year[-2:]), int(month)) < (today.year, today.month)


def decide(
    pan: str,
    *,
    month: str | None,
    year: str | None,
    today: date,
    challenge: bool,
    three_ds_passed: bool,
) -> Decision:
    """The sandbox's answer for a card payment.

    ``challenge`` says whether 3DS applies to this charge at all (a merchant-initiated
    recurrent charge skips it; a client-initiated one always asks).
    """
    if pan in DECLINES:
        code, description = DECLINES[pan]
        return Decision(Outcome.DECLINED, code, description)
    if expired(month, year, today):
        return Decision(Outcome.DECLINED, "bank_card_expired", "card expired")
    if challenge and not three_ds_passed:
        return Decision(Outcome.CHALLENGE)
    return Decision(Outcome.APPROVED)


def needs_challenge(pan: str, *, initiator: str | None) -> bool:
    """3DS applies to the 3DS test card and to every client-initiated recurrent charge."""
    if initiator == Initiator.MERCHANT:
        return False
    return initiator == Initiator.CLIENT or pan == THREE_DS_CARD


def references(operation_id: str) -> tuple[str, str]:
    """Deterministic ``(rrn, auth_code)`` for an operation: 12 and 6 digits."""
    digest = int.from_bytes(hashlib.sha256(operation_id.encode()).digest()[:8], "big")
    return f"{digest % 10**12:012d}", f"{(digest // 10**12) % 10**6:06d}"


PAYOUT_DECLINES: Final[dict[str, tuple[str, str]]] = {
    pan: DECLINES[pan] for pan in ("4000000000000002", "4000000000009995", "4000000000000119")
}
ACCOUNT_NOT_FOUND: Final = ("account_not_found", "account not found")
FPS_UNREGISTERED_SUFFIX: Final = "0000"
FPS_BANKS: Final[tuple[tuple[str, str, str], ...]] = (
    ("100000000069", "Sandbox Bank", "Песочный банк"),
    ("100000000004", "Sandbox Savings Bank", "Песочный сберегательный банк"),
    ("100000000008", "Sandbox Digital Bank", "Песочный цифровой банк"),
)


def payout_decision(kind: str, identifier: str) -> tuple[str, str] | None:
    """The sandbox rail's refusal ``(code, description)`` for a payout, or None if it pays.

    Cards: the payment declines that apply to payouts (``…0002``, ``…9995``, ``…0119``).
    Accounts, FPS phones, wallets: an identifier ending in ``0002`` is ``account_not_found``.
    """
    if kind == "card":
        return PAYOUT_DECLINES.get(identifier)
    return ACCOUNT_NOT_FOUND if identifier.endswith("0002") else None


def fps_registered(phone: str) -> bool:
    """A sandbox phone is registered in FPS unless it ends in ``0000``."""
    return not phone.endswith(FPS_UNREGISTERED_SUFFIX)
