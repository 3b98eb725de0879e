"""View models of the dashboard: a session's timeline, instruments, postings; list filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from kassa.domain.instrument import card_of
from kassa.service.ports.dashboard import Cursor, SessionFilter

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kassa.domain.instrument import PaymentInstrument, PayoutDestination
    from kassa.domain.session import PaymentSession
    from kassa.service.ports.dashboard import PostingRow
    from kassa.service.ports.delivery import DeliveryView

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STATUSES = ("created", "in_progress", "accepted", "error", "cancelled")
KINDS = ("payment", "payout", "refund")


@dataclass(frozen=True, slots=True)
class Event:
    """One line of a session's timeline."""

    at: datetime
    subject: str  # the session or operation id
    text: str


def _us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def cursor_text(session: PaymentSession) -> str:
    """The ``after`` parameter of the page that follows ``session``."""
    return f"{_us(session.created_at)}~{session.id}"


def parse_cursor(text: str) -> Cursor | None:
    """Inverse of ``cursor_text``; None when absent or malformed."""
    stamp, _, sid = text.partition("~")
    if not stamp.isdigit() or not sid:
        return None
    return Cursor(EPOCH + timedelta(microseconds=int(stamp)), sid)


def _day(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_filter(query: Mapping[str, str]) -> SessionFilter:
    """The list's filters from the query string (unknown values do not narrow)."""
    end = _day(query.get("to", ""))
    return SessionFilter(
        project_id=query.get("project", "").strip(),
        status=query.get("status", "") if query.get("status", "") in STATUSES else "",
        kind=query.get("kind", "") if query.get("kind", "") in KINDS else "",
        currency=query.get("currency", "").strip().lower()[:3],
        created_from=_day(query.get("from", "")),
        created_to=None if end is None else end + timedelta(days=1),
        query=query.get("q", "").strip()[:200],
    )


def masked(value: PaymentInstrument | PayoutDestination | None) -> str:
    """A card as ``VISA •••• 4242 (424242, 12/30)``; other instruments by kind only."""
    if value is None:
        return "—"
    card = card_of(value)
    if card is None:
        return type(value).__name__
    expiry = (
        f", {str(card.expiration_month).zfill(2)}/{str(card.expiration_year)[-2:]}"
        if card.expiration_month is not None and card.expiration_year is not None
        else ""
    )
    return f"{card.brand.upper()} •••• {card.last4} ({card.bin}{expiry})"


def timeline(session: PaymentSession, deliveries: list[DeliveryView]) -> list[Event]:
    """Every recorded change of the session and its operations, and each webhook, by time."""
    events = [Event(session.created_at, session.id, "session created")]
    for p in session.payments:
        events.append(Event(p.created_at, p.id, f"payment started ({p.amount.minor} minor)"))
        if p.finished_at is not None:
            events.append(Event(p.finished_at, p.id, f"payment {p.status.value}"))
        elif p.updated_at != p.created_at:
            events.append(Event(p.updated_at, p.id, f"payment {p.status.value}"))
        for r in p.refunds:
            events.append(Event(r.created_at, r.id, f"refund started ({r.amount.minor} minor)"))
            if r.finished_at is not None:
                events.append(Event(r.finished_at, r.id, f"refund {r.status.value}"))
    for o in session.payouts:
        events.append(Event(o.created_at, o.id, f"payout started ({o.amount.minor} minor)"))
        if o.finished_at is not None:
            events.append(Event(o.finished_at, o.id, f"payout {o.status.value}"))
    if session.finished_at is not None:
        events.append(Event(session.finished_at, session.id, f"session {session.status.value}"))
    for d in deliveries:
        replay = f" (replay of #{d.replay_of})" if d.replay_of is not None else ""
        events.append(Event(d.created_at, f"webhook #{d.id}", f"{d.event_type}{replay}"))
    return sorted(events, key=lambda e: e.at)


def postings_by_operation(postings: list[PostingRow]) -> dict[str, list[PostingRow]]:
    """The session's postings grouped by operation id, in order."""
    grouped: dict[str, list[PostingRow]] = {}
    for p in postings:
        grouped.setdefault(p.operation_id, []).append(p)
    return grouped


def list_query(query: Mapping[str, str], **changes: str) -> str:
    """The current list filters as a query string, with ``changes``."""
    from urllib.parse import urlencode  # noqa: PLC0415 - small helper

    keep = {
        k: v
        for k, v in query.items()
        if k in {"project", "status", "kind", "currency", "from", "to", "q"} and v
    }
    keep.update({k: v for k, v in changes.items() if v})
    return urlencode(keep)


def csv_cell(value: Any) -> str:  # noqa: ANN401 - any cell
    """A CSV cell a spreadsheet will not run as a formula (=, +, -, @ prefixed by ')."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def kinds_of(session: PaymentSession) -> list[str]:
    """``payment``, ``refund``, ``payout``: the kinds of operation the session holds."""
    kinds = ["payment"] if session.payments else []
    kinds += ["refund"] if any(p.refunds for p in session.payments) else []
    return kinds + (["payout"] if session.payouts else [])


def last4_of(session: PaymentSession) -> str | None:
    """The newest card's last four digits."""
    cards = [card_of(p.instrument) for p in session.payments]
    cards += [card_of(p.destination) for p in session.payouts]
    found = [c.last4 for c in cards if c is not None]
    return found[-1] if found else None


def reference_of(session: PaymentSession) -> str | None:
    """The customer's reference (draft first, then the operations')."""
    for customer in [session.draft.customer, *(p.customer for p in session.payments)]:
        if isinstance(customer, dict) and isinstance(customer.get("reference"), str):
            return str(customer["reference"])
    return None
