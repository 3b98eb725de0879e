"""The dashboard's ports: the operator's log-ins and audit log, and the read side it lists.

``AdminStore`` keeps the admin password hash, dashboard sessions (by token hash), used form
tokens (each form acts once) and the audit log. ``DashboardReads`` answers the list, search,
overview and session-page queries with SQL over the tables (``adapters/db/dashboard_sql.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from kassa.domain.ledger import Balance
    from kassa.domain.session import PaymentSession
    from kassa.service.ports.delivery import DeliveryStore, DeliveryView


@dataclass(frozen=True, slots=True)
class AdminSession:
    """One dashboard log-in: the cookie token's hash, who, from where, until when."""

    token_hash: str
    username: str
    address: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One dashboard action as the audit log shows it (``id`` 0 before it is stored)."""

    at: datetime
    username: str
    address: str
    action: str
    project_id: str | None
    target: str | None
    outcome: str  # "ok" or the error code
    before: str | None  # JSON text
    after: str | None
    id: int = 0


@dataclass(frozen=True, slots=True)
class SessionFilter:
    """What the sessions list is narrowed to; empty fields do not narrow it."""

    project_id: str = ""
    status: str = ""
    kind: str = ""  # payment, payout or refund
    currency: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None  # exclusive
    query: str = ""  # a session/payment/payout/refund id, customer reference, last4 or text


@dataclass(frozen=True, slots=True)
class Cursor:
    """Keyset position: the last row shown, ``(created_at, id)``; the next page is older."""

    created_at: datetime
    id: str


@dataclass(frozen=True, slots=True)
class CurrencyFigures:
    """Sessions created in a window, per currency: how many, how many accepted, their sum."""

    currency: str
    count: int
    accepted: int
    volume: int  # minor units of the accepted sessions

    @property
    def success_rate(self) -> float:
        """Accepted share of the sessions (0 when there are none)."""
        return self.accepted / self.count if self.count else 0.0


@dataclass(frozen=True, slots=True)
class DayFigures:
    """Sessions created on one UTC day in one currency: all, accepted, accepted volume."""

    day: datetime
    currency: str
    count: int
    accepted: int
    volume: int


@dataclass(frozen=True, slots=True)
class PostingRow:
    """A ledger posting with its transaction, for the session page."""

    transaction_id: str
    operation_id: str
    kind: str
    account: str
    currency: str
    amount: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryHealth:
    """The webhook queue: pending rows, failures in the last 24 h, the oldest pending."""

    depth: int
    failed_24h: int
    oldest_pending: datetime | None


class AdminStore(Protocol):
    """Admin credentials, dashboard sessions, form tokens, audit log."""

    async def password_hash(self, username: str) -> str | None:
        """The stored hash of ``username``'s password, or None if none was set."""
        ...

    async def set_password_hash(self, username: str, password_hash: str, now: datetime) -> None:
        """Create or replace the password hash; every session of the user ends."""
        ...

    async def add_session(self, session: AdminSession) -> None:
        """Store a new log-in."""
        ...

    async def get_session(self, token_hash: str) -> AdminSession | None:
        """The log-in with this token hash, or None."""
        ...

    async def touch_session(self, token_hash: str, now: datetime, expires_at: datetime) -> None:
        """Record activity: the idle expiry moves to ``expires_at``."""
        ...

    async def delete_session(self, token_hash: str) -> None:
        """End a log-in (logout, expiry)."""
        ...

    async def use_form(self, nonce: str, now: datetime) -> bool:
        """Mark a form token used; False if it was used before (a double submit)."""
        ...

    async def add_audit(self, entry: AuditEntry) -> None:
        """Append to the audit log."""
        ...

    async def audit_entries(self, limit: int, before_id: int | None = None) -> list[AuditEntry]:
        """Newest first, older than ``before_id`` when given."""
        ...


class DashboardReads(Protocol):
    """The read side of the dashboard (plus the delivery queue the replay button uses)."""

    @property
    def deliveries(self) -> DeliveryStore:
        """The outbox as a delivery queue."""
        ...

    async def list_sessions(
        self, where: SessionFilter, after: Cursor | None, limit: int
    ) -> list[PaymentSession]:
        """Newest first, older than ``after``: one keyset page."""
        ...

    async def session_by_any_id(self, any_id: str) -> PaymentSession | None:
        """The session with this id, or holding the operation with this id."""
        ...

    async def postings_of_session(self, session_id: str) -> list[PostingRow]:
        """Every ledger posting of the session's operations, oldest first."""
        ...

    async def deliveries_of_session(self, session_id: str) -> list[DeliveryView]:
        """Every webhook of the session with its attempts, oldest first."""
        ...

    async def daily_figures(self, since: datetime) -> list[DayFigures]:
        """Per UTC day and currency, sessions created since ``since`` (one scan)."""
        ...

    async def balances(self) -> list[Balance]:
        """Every stored balance row (wallets among them)."""
        ...

    async def session_count(self, up_to: int) -> int:
        """How many sessions are stored, counting no further than ``up_to``."""
        ...

    async def delivery_health(self, now: datetime) -> DeliveryHealth:
        """Queue depth, failures in the 24 h before ``now``, oldest pending."""
        ...
