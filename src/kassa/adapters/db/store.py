"""The repository over either driver: one set of SQL (``?`` placeholders) for both dialects."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from kassa.adapters.db import acquiring_sql, instrument_rows, rows, session_rows, tokens_sql
from kassa.adapters.db.deliveries import SqlDeliveries
from kassa.adapters.db.driver import Driver, Row, Stmt
from kassa.adapters.db.unit_of_work import SqlUnitOfWork
from kassa.domain.project import MAX_ACTIVE_KEYS, Project
from kassa.service.ports import (
    IdempotencyClaim,
    IdempotencyRecord,
    IdempotencyState,
    VaultEntry,
)

if TYPE_CHECKING:
    from datetime import datetime

    from kassa.domain.ledger import Balance, LedgerEntry
    from kassa.domain.public_token import PublicToken
    from kassa.domain.recurrent import RecurrentToken
    from kassa.domain.session import PaymentSession

_PROJECT_SELECT = (
    "SELECT p.id, p.name, p.webhook_url, p.settings, p.created_at, p.widget_origins, "
    "k.public_key_pem "
    "FROM projects p LEFT JOIN project_keys k "
    "ON k.project_id = p.id AND k.retired_at IS NULL "
)


def _projects(found: list[Row]) -> list[Project]:
    keys: dict[str, list[str]] = {}
    heads: dict[str, Row] = {}
    for row in found:
        heads.setdefault(row[0], row)
        if row[6] is not None:
            keys.setdefault(row[0], []).append(row[6])
    return [rows.project_from_row(r, tuple(keys.get(pid, ()))) for pid, r in heads.items()]


class SqlStore:
    """``service.ports.Store`` over SQLite or PostgreSQL."""

    def __init__(self, driver: Driver) -> None:
        """Wrap an open driver."""
        self.driver = driver
        self.deliveries = SqlDeliveries(driver)  # the outbox as a delivery queue

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.driver.dialect

    def unit_of_work(self) -> SqlUnitOfWork:
        """A fresh unit of work."""
        return SqlUnitOfWork(self.driver)

    async def get_project(self, project_id: str) -> Project | None:
        """The project with its active keys, or None."""
        found = await self.driver.fetch(
            _PROJECT_SELECT + "WHERE p.id = ? ORDER BY k.id", (project_id,)
        )
        projects = _projects(found)
        return projects[0] if projects else None

    async def list_projects(self) -> list[Project]:
        """Every project, oldest first."""
        found = await self.driver.fetch(_PROJECT_SELECT + "ORDER BY p.created_at, p.id, k.id")
        return _projects(found)

    async def add_project(self, project: Project) -> None:
        """Insert the project and its keys in one transaction."""
        created = rows.to_us(project.created_at)
        stmts = [
            Stmt(
                "INSERT INTO projects (id, name, webhook_url, settings, created_at, "
                "widget_origins) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    project.id,
                    project.name,
                    project.webhook_url,
                    rows.settings_to_json(project.settings),
                    created,
                    rows.origins_to_column(project.widget_origins),
                ),
            ),
        ]
        stmts += [
            Stmt(
                "INSERT INTO project_keys (project_id, public_key_pem, created_at) "
                "VALUES (?, ?, ?)",
                (project.id, pem, created),
            )
            for pem in project.public_keys
        ]
        await self.driver.write(stmts)

    async def set_webhook_url(self, project_id: str, url: str | None) -> bool:
        """Set or clear the webhook URL."""
        [result] = await self.driver.write(
            [Stmt("UPDATE projects SET webhook_url = ? WHERE id = ?", (url, project_id))],
        )
        return result.rowcount == 1

    async def set_widget_origins(self, project_id: str, origins: tuple[str, ...]) -> bool:
        """Set the widget origins (empty: the default)."""
        return await tokens_sql.set_widget_origins(self.driver, project_id, origins)

    async def set_project_settings(self, project: Project) -> None:
        """Store the project's settings."""
        await self.driver.write(
            [
                Stmt(
                    "UPDATE projects SET settings = ? WHERE id = ?",
                    (rows.settings_to_json(project.settings), project.id),
                    expect=1,
                ),
            ],
        )

    async def add_public_key(self, project_id: str, pem: str, now: datetime) -> None:
        """Add a key; keep the newest two active, retire older ones."""
        at = rows.to_us(now)
        await self.driver.write(
            [
                Stmt(
                    "INSERT INTO project_keys (project_id, public_key_pem, created_at) "
                    "VALUES (?, ?, ?)",
                    (project_id, pem, at),
                ),
                Stmt(
                    "UPDATE project_keys SET retired_at = ? WHERE project_id = ? "
                    "AND retired_at IS NULL AND id NOT IN (SELECT id FROM project_keys "
                    "WHERE project_id = ? AND retired_at IS NULL ORDER BY id DESC LIMIT ?)",
                    (at, project_id, project_id, MAX_ACTIVE_KEYS),
                ),
            ],
        )

    async def get_session(self, project_id: str, session_id: str) -> PaymentSession | None:
        """The project's session or None; another project's id is simply not found."""
        found = await self.driver.fetch(
            f"SELECT {session_rows.SESSION_COLUMNS} FROM sessions WHERE id = ? AND project_id = ?",
            (session_id, project_id),
        )
        return session_rows.session_from_row(found[0]) if found else None

    async def count_sessions(self, project_id: str | None = None) -> int:
        """How many sessions exist (for one project, or all)."""
        if project_id is None:
            found = await self.driver.fetch("SELECT COUNT(*) FROM sessions")
        else:
            found = await self.driver.fetch(
                "SELECT COUNT(*) FROM sessions WHERE project_id = ?",
                (project_id,),
            )
        return int(found[0][0])

    async def get_vault_entry(self, project_id: str, number_hash: str) -> VaultEntry | None:
        """The project's vaulted card, or None."""
        found = await self.driver.fetch(
            "SELECT ciphertext, card, created_at FROM vault_cards "
            "WHERE project_id = ? AND number_hash = ?",
            (project_id, number_hash),
        )
        if not found:
            return None
        card = instrument_rows.card_from_json(orjson.loads(found[0][1]))
        return VaultEntry(
            project_id=project_id,
            card=card,
            ciphertext=bytes(found[0][0]),
            created_at=rows.from_us(found[0][2]),
        )

    async def find_session_by_payment(self, payment_id: str) -> PaymentSession | None:
        """The session holding the acquiring payment, or None."""
        return await acquiring_sql.find_session_by_payment(self.driver, payment_id)

    async def sessions_due(self, now: datetime, limit: int) -> list[PaymentSession]:
        """Sessions whose ``deadline_at`` has passed."""
        return await acquiring_sql.sessions_due(self.driver, now, limit)

    async def get_recurrent_token(self, project_id: str, token: str) -> RecurrentToken | None:
        """The project's recurrent token, or None."""
        return await acquiring_sql.get_recurrent_token(self.driver, project_id, token)

    async def get_public_token(
        self, token_hash: str, project_id: str | None = None
    ) -> PublicToken | None:
        """A public token by hash (within ``project_id`` when given)."""
        return await tokens_sql.get_token(self.driver, token_hash, project_id)

    async def take_card_attempt(self, token_hash: str, limit: int) -> bool:
        """Count a card attempt while under ``limit``."""
        return await tokens_sql.take_card_attempt(self.driver, token_hash, limit)

    async def ledger_entries(self) -> list[LedgerEntry]:
        """Every ledger posting with its transaction's context."""
        return await acquiring_sql.ledger_entries(self.driver)

    async def account_sums(self, project_id: str, account: str) -> dict[str, int]:
        """Sum of the project's postings on ``account`` per currency (an indexed scan)."""
        found = await self.driver.fetch(
            "SELECT currency, SUM(amount) FROM ledger_postings WHERE project_id = ? "
            "AND account = ? GROUP BY currency",
            (project_id, account),
        )
        return {str(currency): int(total) for currency, total in found}

    async def balances(self) -> list[Balance]:
        """Every stored balance row of an internal account."""
        return await acquiring_sql.balances(self.driver)

    async def sessions_after(self, after_id: str, limit: int) -> list[PaymentSession]:
        """Up to ``limit`` sessions of any project with ids above ``after_id``, by id."""
        return await acquiring_sql.sessions_after(self.driver, after_id, limit)

    async def claim_idempotency(
        self,
        record: IdempotencyRecord,
        now: datetime,
    ) -> IdempotencyRecord | None:
        """Own the key (insert, or take over an abandoned or expired one) or return it."""
        at = rows.to_us(now)
        [claimed] = await self.driver.write(
            [
                Stmt(
                    "INSERT INTO idempotency_keys AS k (project_id, key, fingerprint, owner, "
                    "lease_until, state, created_at, expires_at) "
                    "VALUES (?, ?, ?, ?, ?, 'running', ?, ?) "
                    "ON CONFLICT (project_id, key) DO UPDATE SET "
                    "fingerprint = excluded.fingerprint, owner = excluded.owner, "
                    "lease_until = excluded.lease_until, state = 'running', "
                    "response_status = NULL, response_body = NULL, "
                    "created_at = excluded.created_at, expires_at = excluded.expires_at "
                    "WHERE (k.state = 'running' AND k.lease_until < ?) OR k.expires_at < ? "
                    "RETURNING owner",
                    (
                        record.project_id,
                        record.key,
                        record.fingerprint,
                        record.owner,
                        rows.to_us(record.lease_until),
                        at,
                        rows.to_us(record.expires_at),
                        at,
                        at,
                    ),
                    returning=True,
                ),
            ],
        )
        if claimed.rows and claimed.rows[0][0] == record.owner:
            return None
        found = await self.driver.fetch(
            "SELECT fingerprint, state, owner, lease_until, response_status, response_body "
            "FROM idempotency_keys WHERE project_id = ? AND key = ?",
            (record.project_id, record.key),
        )
        if not found:  # released between our insert and this read: report it as running
            return record
        fp, state, owner, lease_until, status, body = found[0]
        return IdempotencyRecord(
            project_id=record.project_id,
            key=record.key,
            fingerprint=fp,
            state=IdempotencyState(state),
            owner=owner,
            lease_until=rows.from_us(lease_until),
            expires_at=record.expires_at,
            response_status=status,
            response_body=None if body is None else bytes(body),
        )

    async def release_idempotency(self, claim: IdempotencyClaim) -> None:
        """Delete a running key this request owns."""
        await self.driver.write(
            [
                Stmt(
                    "DELETE FROM idempotency_keys WHERE project_id = ? AND key = ? AND owner = ? "
                    "AND state = 'running'",
                    (claim.project_id, claim.key, claim.owner),
                ),
            ],
        )

    async def close(self) -> None:
        """Close the driver."""
        await self.driver.close()
