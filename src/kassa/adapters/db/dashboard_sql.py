"""``service.ports.dashboard.DashboardReads``: the dashboard's lists and figures in SQL.

The sessions list is a keyset page over ``(created_at, id)`` (indexes of migration 0008, per
project too), never an ``OFFSET``: page 50,000 costs what page 1 does. A search term is, by
shape, a card's last four (``last4``), an id (the session's own, or any operation's through
``session_operations``), else a customer reference or a substring of ``search_text`` (a
trigram GIN index on PostgreSQL).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kassa.adapters.db import acquiring_sql, rows, session_rows
from kassa.domain.ledger import Balance  # noqa: TC001 - returned
from kassa.service.ports.dashboard import (
    DayFigures,
    DeliveryHealth,
    PostingRow,
)

if TYPE_CHECKING:
    from datetime import datetime

    from kassa.adapters.db.deliveries import SqlDeliveries
    from kassa.adapters.db.driver import Driver
    from kassa.domain.session import PaymentSession
    from kassa.service.ports.dashboard import Cursor, SessionFilter
    from kassa.service.ports.delivery import DeliveryView

_LAST4 = re.compile(r"^\d{4}$")
_ID = re.compile(r"^[a-z]{2,4}_[A-Za-z0-9_-]+$")
_DAY_US = 86_400 * 1_000_000
_COLUMNS = ", ".join(f"s.{c.strip()}" for c in session_rows.SESSION_COLUMNS.split(","))
KINDS = ("payment", "payout", "refund")


def like_pattern(term: str) -> str:
    r"""``%term%`` with LIKE's wildcards escaped (``\\`` is the escape character)."""
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search(term: str, where: list[str], params: list[Any]) -> None:
    if _LAST4.match(term):
        where.append("s.last4 = ?")
        params.append(term)
    elif _ID.match(term):
        where.append(
            "(s.id = ? OR s.id = (SELECT o.session_id FROM session_operations o "
            "WHERE o.operation_id = ?))"
        )
        params += [term, term]
    else:
        where.append("(s.customer_ref = ? OR s.search_text LIKE ? ESCAPE '\\')")
        params += [term, like_pattern(term)]


def filter_sql(where_: SessionFilter, after: Cursor | None) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause (possibly empty) and its parameters."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("s.project_id", where_.project_id),
        ("s.status", where_.status),
        ("s.currency", where_.currency.lower()),
    ):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if where_.kind in KINDS:
        where.append("s.kinds LIKE ?")
        params.append(f"%{where_.kind}%")
    if where_.created_from is not None:
        where.append("s.created_at >= ?")
        params.append(rows.to_us(where_.created_from))
    if where_.created_to is not None:
        where.append("s.created_at < ?")
        params.append(rows.to_us(where_.created_to))
    term = where_.query.strip()
    if term:
        _search(term, where, params)
    if after is not None:
        where.append("(s.created_at, s.id) < (?, ?)")
        params += [rows.to_us(after.created_at), after.id]
    return (f"WHERE {' AND '.join(where)} " if where else ""), params


class SqlDashboardReads:
    """The read side over either driver; ``deliveries`` is the store's outbox queue."""

    def __init__(self, driver: Driver, deliveries: SqlDeliveries) -> None:
        """Use an open driver and the store's delivery queue."""
        self.driver = driver
        self._deliveries = deliveries

    @property
    def deliveries(self) -> SqlDeliveries:
        """The outbox as a delivery queue."""
        return self._deliveries

    async def list_sessions(
        self, where: SessionFilter, after: Cursor | None, limit: int
    ) -> list[PaymentSession]:
        """One keyset page, newest first."""
        clause, params = filter_sql(where, after)
        found = await self.driver.fetch(
            f"SELECT {_COLUMNS} FROM sessions s {clause}"
            "ORDER BY s.created_at DESC, s.id DESC LIMIT ?",
            (*params, limit),
        )
        return [session_rows.session_from_row(r) for r in found]

    async def session_by_any_id(self, any_id: str) -> PaymentSession | None:
        """By the session id, or by an operation id it holds."""
        found = await self.driver.fetch(
            f"SELECT {_COLUMNS} FROM sessions s WHERE s.id = ? OR s.id = "
            "(SELECT o.session_id FROM session_operations o WHERE o.operation_id = ?)",
            (any_id, any_id),
        )
        return session_rows.session_from_row(found[0]) if found else None

    async def postings_of_session(self, session_id: str) -> list[PostingRow]:
        """Postings of every operation of the session (via ``session_operations``)."""
        found = await self.driver.fetch(
            "SELECT t.id, p.operation_id, t.kind, p.account, p.currency, p.amount, t.created_at "
            "FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id "
            "WHERE p.operation_id IN "
            "(SELECT operation_id FROM session_operations WHERE session_id = ?) "
            "ORDER BY t.created_at, p.id",
            (session_id,),
        )
        return [
            PostingRow(r[0], r[1], r[2], r[3], r[4], int(r[5]), rows.from_us(r[6])) for r in found
        ]

    async def deliveries_of_session(self, session_id: str) -> list[DeliveryView]:
        """The session's webhooks with their attempts."""
        return await self._deliveries.of_session(session_id)

    async def daily_figures(self, since: datetime) -> list[DayFigures]:
        """Count, accepted count and accepted volume per UTC day and currency, one scan."""
        found = await self.driver.fetch(
            f"SELECT created_at / {_DAY_US} AS day, currency, COUNT(*), "
            "SUM(CASE WHEN status = 'accepted' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN status = 'accepted' THEN amount ELSE 0 END) "
            "FROM sessions WHERE created_at >= ? AND currency IS NOT NULL "
            "GROUP BY day, currency ORDER BY day, currency",
            (rows.to_us(since),),
        )
        return [
            DayFigures(
                rows.from_us(int(r[0]) * _DAY_US), r[1], int(r[2]), int(r[3] or 0), int(r[4] or 0)
            )
            for r in found
        ]

    async def balances(self) -> list[Balance]:
        """Every balance row."""
        return await acquiring_sql.balances(self.driver)

    async def session_count(self, up_to: int) -> int:
        """``COUNT(*)`` of sessions, reading at most ``up_to`` index entries."""
        [(count,)] = await self.driver.fetch(
            "SELECT COUNT(*) FROM (SELECT 1 FROM sessions LIMIT ?) AS s", (up_to,)
        )
        return int(count)

    async def delivery_health(self, now: datetime) -> DeliveryHealth:
        """Pending rows, failed attempts in the last 24 h, the oldest pending row."""
        [(depth, oldest)] = await self.driver.fetch(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE status = 'pending'"
        )
        [(failed,)] = await self.driver.fetch(
            "SELECT COUNT(*) FROM delivery_attempts WHERE attempted_at >= ? "
            "AND (http_status IS NULL OR http_status < 200 OR http_status > 299)",
            (rows.to_us(now) - _DAY_US,),
        )
        return DeliveryHealth(int(depth), int(failed), rows.opt_from_us(oldest))
