"""``service.ports.dashboard.AdminStore`` in SQL: password hash, log-ins, form tokens, audit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kassa.adapters.db import rows
from kassa.adapters.db.driver import Driver, Row, Stmt
from kassa.service.ports.dashboard import AdminSession, AuditEntry

if TYPE_CHECKING:
    from datetime import datetime

_SESSION = "token_hash, username, address, created_at, last_seen_at, expires_at"
_AUDIT = "id, at, username, address, action, project_id, target, outcome, before, after"
FORM_MEMORY_US = 2 * 24 * 3600 * 1_000_000  # used form tokens are kept two days


def _session(row: Row) -> AdminSession:
    return AdminSession(
        token_hash=row[0],
        username=row[1],
        address=row[2],
        created_at=rows.from_us(row[3]),
        last_seen_at=rows.from_us(row[4]),
        expires_at=rows.from_us(row[5]),
    )


def _audit(row: Row) -> AuditEntry:
    return AuditEntry(
        id=int(row[0]),
        at=rows.from_us(row[1]),
        username=row[2],
        address=row[3],
        action=row[4],
        project_id=row[5],
        target=row[6],
        outcome=row[7],
        before=row[8],
        after=row[9],
    )


class SqlAdmin:
    """The admin tables of migration 0007 over either driver."""

    def __init__(self, driver: Driver) -> None:
        """Use an open driver."""
        self.driver = driver

    async def password_hash(self, username: str) -> str | None:
        """The stored hash, or None."""
        found = await self.driver.fetch(
            "SELECT password_hash FROM admin_users WHERE username = ?", (username,)
        )
        return str(found[0][0]) if found else None

    async def set_password_hash(self, username: str, password_hash: str, now: datetime) -> None:
        """Upsert the hash and end the user's sessions, in one transaction."""
        at = rows.to_us(now)
        await self.driver.write(
            [
                Stmt(
                    "INSERT INTO admin_users (username, password_hash, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (username) DO UPDATE SET "
                    "password_hash = excluded.password_hash, updated_at = excluded.updated_at",
                    (username, password_hash, at, at),
                ),
                Stmt("DELETE FROM admin_sessions WHERE username = ?", (username,)),
            ]
        )

    async def add_session(self, session: AdminSession) -> None:
        """Insert the log-in (and forget expired ones and old form tokens)."""
        now = rows.to_us(session.created_at)
        await self.driver.write(
            [
                Stmt("DELETE FROM admin_sessions WHERE expires_at < ?", (now,)),
                Stmt("DELETE FROM admin_form_uses WHERE used_at < ?", (now - FORM_MEMORY_US,)),
                Stmt(
                    f"INSERT INTO admin_sessions ({_SESSION}) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        session.token_hash,
                        session.username,
                        session.address,
                        now,
                        rows.to_us(session.last_seen_at),
                        rows.to_us(session.expires_at),
                    ),
                ),
            ]
        )

    async def get_session(self, token_hash: str) -> AdminSession | None:
        """The log-in, or None."""
        found = await self.driver.fetch(
            f"SELECT {_SESSION} FROM admin_sessions WHERE token_hash = ?", (token_hash,)
        )
        return _session(found[0]) if found else None

    async def touch_session(self, token_hash: str, now: datetime, expires_at: datetime) -> None:
        """Move the idle expiry."""
        await self.driver.write(
            [
                Stmt(
                    "UPDATE admin_sessions SET last_seen_at = ?, expires_at = ? "
                    "WHERE token_hash = ?",
                    (rows.to_us(now), rows.to_us(expires_at), token_hash),
                )
            ]
        )

    async def delete_session(self, token_hash: str) -> None:
        """End the log-in."""
        await self.driver.write(
            [Stmt("DELETE FROM admin_sessions WHERE token_hash = ?", (token_hash,))]
        )

    async def use_form(self, nonce: str, now: datetime) -> bool:
        """Insert the nonce; False when it was there already."""
        [result] = await self.driver.write(
            [
                Stmt(
                    "INSERT INTO admin_form_uses (nonce, used_at) VALUES (?, ?) "
                    "ON CONFLICT (nonce) DO NOTHING",
                    (nonce, rows.to_us(now)),
                )
            ]
        )
        return result.rowcount == 1

    async def add_audit(self, entry: AuditEntry) -> None:
        """Append one row."""
        await self.driver.write(
            [
                Stmt(
                    "INSERT INTO audit_log (at, username, address, action, project_id, target, "
                    "outcome, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        rows.to_us(entry.at),
                        entry.username,
                        entry.address,
                        entry.action,
                        entry.project_id,
                        entry.target,
                        entry.outcome,
                        entry.before,
                        entry.after,
                    ),
                )
            ]
        )

    async def audit_entries(self, limit: int, before_id: int | None = None) -> list[AuditEntry]:
        """Newest first."""
        where, params = ("WHERE id < ? ", [before_id]) if before_id is not None else ("", [])
        found = await self.driver.fetch(
            f"SELECT {_AUDIT} FROM audit_log {where}ORDER BY id DESC LIMIT ?", (*params, limit)
        )
        return [_audit(r) for r in found]
