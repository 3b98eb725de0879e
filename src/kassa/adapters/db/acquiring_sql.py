"""SQL of the acquiring side (ledger, recurrent tokens, payment look-ups) for ``SqlStore``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.adapters.db import rows, session_rows
from kassa.adapters.db.driver import Stmt
from kassa.domain.ledger import Balance, LedgerEntry

if TYPE_CHECKING:
    from datetime import datetime

    from kassa.adapters.db.driver import Driver
    from kassa.domain.ledger import LedgerTransaction
    from kassa.domain.recurrent import RecurrentToken
    from kassa.domain.session import PaymentSession


def ledger_statements(tx: LedgerTransaction) -> list[Stmt]:
    """The transaction row and one row per posting."""
    stmts = [
        Stmt(
            "INSERT INTO ledger_transactions (id, project_id, session_id, operation_id, kind, "
            "currency, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                tx.id,
                tx.project_id,
                tx.session_id,
                tx.operation_id,
                tx.kind.value,
                tx.currency,
                rows.to_us(tx.created_at),
            ),
        ),
    ]
    stmts += [
        Stmt(
            "INSERT INTO ledger_postings (transaction_id, project_id, account, currency, amount, "
            "operation_id) VALUES (?, ?, ?, ?, ?, ?)",
            (tx.id, tx.project_id, p.account, tx.currency, p.amount, p.operation_id),
        )
        for p in tx.postings
    ]
    return stmts


def add_recurrent_statement(token: RecurrentToken) -> Stmt:
    """Insert a recurrent token."""
    return Stmt(
        f"INSERT INTO recurrent_tokens ({session_rows.RECURRENT_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        session_rows.recurrent_params(token),
    )


def disable_recurrent_statement(token: RecurrentToken) -> Stmt:
    """Set ``disabled_at`` once (a second disable keeps the first time)."""
    return Stmt(
        "UPDATE recurrent_tokens SET disabled_at = ? "
        "WHERE token = ? AND project_id = ? AND disabled_at IS NULL",
        (rows.opt_to_us(token.disabled_at), token.token, token.project_id),
    )


async def find_session_by_payment(driver: Driver, payment_id: str) -> PaymentSession | None:
    """The session holding the operation (payment, refund or payout), by its index row."""
    columns = ", ".join(f"s.{c.strip()}" for c in session_rows.SESSION_COLUMNS.split(","))
    found = await driver.fetch(
        f"SELECT {columns} FROM session_operations o JOIN sessions s ON s.id = o.session_id "
        "WHERE o.operation_id = ?",
        (payment_id,),
    )
    return session_rows.session_from_row(found[0]) if found else None


async def sessions_due(driver: Driver, now: datetime, limit: int) -> list[PaymentSession]:
    """Sessions whose earliest pending timeout has passed, oldest deadline first."""
    found = await driver.fetch(
        f"SELECT {session_rows.SESSION_COLUMNS} FROM sessions WHERE deadline_at IS NOT NULL "
        "AND deadline_at <= ? ORDER BY deadline_at LIMIT ?",
        (rows.to_us(now), limit),
    )
    return [session_rows.session_from_row(r) for r in found]


async def get_recurrent_token(driver: Driver, project_id: str, token: str) -> RecurrentToken | None:
    """The project's recurrent token, or None."""
    found = await driver.fetch(
        f"SELECT {session_rows.RECURRENT_COLUMNS} FROM recurrent_tokens "
        "WHERE token = ? AND project_id = ?",
        (token, project_id),
    )
    return session_rows.recurrent_from_row(found[0]) if found else None


async def ledger_entries(driver: Driver) -> list[LedgerEntry]:
    """Every posting joined with its transaction, in insertion order."""
    found = await driver.fetch(
        "SELECT t.id, t.project_id, t.session_id, t.kind, t.currency, p.account, p.amount, "
        "p.operation_id, p.currency FROM ledger_postings p "
        "JOIN ledger_transactions t ON t.id = p.transaction_id ORDER BY p.id",
    )
    return [
        LedgerEntry(
            transaction_id=r[0],
            project_id=r[1],
            session_id=r[2],
            kind=r[3],
            currency=r[8],
            account=r[5],
            amount=int(r[6]),
            operation_id=r[7],
        )
        for r in found
    ]


async def balances(driver: Driver) -> list[Balance]:
    """Every row of ``balances``."""
    found = await driver.fetch(
        "SELECT project_id, account, currency, amount FROM balances "
        "ORDER BY project_id, account, currency"
    )
    return [Balance(r[0], r[1], r[2], int(r[3])) for r in found]


async def sessions_after(driver: Driver, after_id: str, limit: int) -> list[PaymentSession]:
    """A page of sessions in id order (for reconciliation over every session)."""
    found = await driver.fetch(
        f"SELECT {session_rows.SESSION_COLUMNS} FROM sessions WHERE id > ? ORDER BY id LIMIT ?",
        (after_id, limit),
    )
    return [session_rows.session_from_row(r) for r in found]
