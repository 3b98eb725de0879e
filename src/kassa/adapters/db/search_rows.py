"""The dashboard's search columns of a session, written with every session row.

``amount`` and ``currency`` (the draft's, else the first operation's), ``kinds``
(``payment``/``payout``/``refund``, space-separated), ``last4`` (the newest card's last four),
``customer_ref`` (the customer's ``reference``) and ``search_text`` (lowercased metadata and
references, for substring search; capped at ``MAX_TEXT``). Two entry points with one rule:
from a session being written, and from a stored ``doc`` (the migration's back-fill).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from kassa.domain.instrument import card_of

if TYPE_CHECKING:
    from kassa.domain.json import JSON
    from kassa.domain.session import PaymentSession

SEARCH_COLUMNS = ("amount", "currency", "kinds", "last4", "customer_ref", "search_text")
MAX_TEXT = 2000
SearchValues = tuple[int | None, str | None, str | None, str | None, str | None, str | None]


def _text(value: JSON) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _reference(customer: Any) -> str | None:  # noqa: ANN401 - a stored JSON object
    if isinstance(customer, dict):
        ref = customer.get("reference")
        return ref if isinstance(ref, str) else None
    return None


def _pack(  # noqa: PLR0917 - the columns, in order
    amount: int | None,
    currency: str | None,
    kinds: list[str],
    last4: str | None,
    refs: list[str],
    texts: list[str],
) -> SearchValues:
    words = " ".join(t for t in [*refs, *texts] if t).lower()[:MAX_TEXT]
    ref = refs[0] if refs else None
    return (amount, currency, " ".join(kinds) or None, last4, ref, words or None)


def search_values(session: PaymentSession) -> SearchValues:
    """The search columns of ``session``, in ``SEARCH_COLUMNS`` order."""
    draft = session.draft
    amounts = [p.amount for p in session.payments] + [p.amount for p in session.payouts]
    money = draft.amount or (amounts[0] if amounts else None)
    kinds: list[str] = []
    last4: str | None = None
    refs = [r for r in [_reference(draft.customer)] if r]
    texts = [_text(draft.metadata)]
    for payment in session.payments:
        card = card_of(payment.instrument)
        last4 = card.last4 if card is not None else last4
        refs += [r for r in [_reference(payment.customer)] if r and r not in refs]
        texts.append(_text(payment.metadata))
        texts += [_text(r.metadata) for r in payment.refunds]
    if session.payments:
        kinds.append("payment")
    if any(p.refunds for p in session.payments):
        kinds.append("refund")
    for payout in session.payouts:
        card = card_of(payout.destination)
        last4 = card.last4 if card is not None else last4
        refs += [r for r in [_reference(payout.customer)] if r and r not in refs]
        texts.append(_text(payout.metadata))
    if session.payouts:
        kinds.append("payout")
    if money is None:
        return _pack(None, None, kinds, last4, refs, texts)
    return _pack(money.minor, money.currency, kinds, last4, refs, texts)


def _card_last4(instrument: Any) -> str | None:  # noqa: ANN401 - a stored JSON object
    if not isinstance(instrument, dict):
        return None
    card = instrument.get("card")
    if isinstance(card, dict) and isinstance(card.get("last4"), str):
        return str(card["last4"])
    return None


def values_from_doc(doc: dict[str, Any]) -> SearchValues:
    """The same columns from a stored ``doc`` (sessions written before the columns existed)."""
    draft = doc.get("draft") or {}
    payments, payouts = doc.get("payments") or [], doc.get("payouts") or []
    last4: str | None = None
    refs = [r for r in [_reference(draft.get("customer"))] if r]
    texts = [_text(draft.get("metadata"))]
    amounts = [draft.get("amount")] + [op.get("amount") for op in [*payments, *payouts]]
    money = next((a for a in amounts if isinstance(a, dict)), None)
    for op in [*payments, *payouts]:
        last4 = _card_last4(op.get("instrument") or op.get("destination")) or last4
        refs += [r for r in [_reference(op.get("customer"))] if r and r not in refs]
        texts.append(_text(op.get("metadata")))
        texts += [_text(r.get("metadata")) for r in op.get("refunds") or []]
    kinds = [
        k
        for k, present in (
            ("payment", bool(payments)),
            ("refund", any(p.get("refunds") for p in payments)),
            ("payout", bool(payouts)),
        )
        if present
    ]
    if money is None:
        return _pack(None, None, kinds, last4, refs, texts)
    return _pack(int(money["amount"]), str(money["currency"]), kinds, last4, refs, texts)
