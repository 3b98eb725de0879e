"""``InMemoryStore``: the ``Store`` port in memory, held to the SQL stores' contract."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kassa.domain.errors import ConcurrentUpdate
from kassa.domain.ledger import Balance, LedgerEntry
from kassa.domain.project import MAX_ACTIVE_KEYS, Project
from kassa.service.ports import IdempotencyState
from kassa.testing.memory_tokens import TokenReads
from kassa.testing.memory_uow import InMemoryUnitOfWork, MemoryState, OutboxRecord, StoredKey

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from kassa.domain.recurrent import RecurrentToken
    from kassa.domain.session import PaymentSession
    from kassa.service.ports import (
        IdempotencyClaim,
        IdempotencyRecord,
        VaultEntry,
    )


class InMemoryStore(TokenReads):
    """``service.ports.Store`` in memory, with the extra reads of ``SqlStore``."""

    def __init__(self) -> None:
        """An empty database."""
        self.state = MemoryState()
        self.commits = 0
        self.closed = False

    def apply(self, writes: list[Callable[[MemoryState], None]]) -> None:
        """Run ``writes`` as one transaction."""
        if not writes:
            return
        draft = self.state.copy()
        for write in writes:
            write(draft)
        self.state = draft
        self.commits += 1

    def unit_of_work(self) -> InMemoryUnitOfWork:
        """A fresh unit of work."""
        return InMemoryUnitOfWork(self)

    async def get_project(self, project_id: str) -> Project | None:
        """The project with its active keys, or None."""
        if project_id not in self.state.projects:
            return None
        return self.state.project(project_id)

    async def list_projects(self) -> list[Project]:
        """Every project, oldest first."""
        found = sorted(self.state.projects.values(), key=lambda p: (p.created_at, p.id))
        return [self.state.project(p.id) for p in found]

    async def add_project(self, project: Project) -> None:
        """Insert the project and its keys."""

        def write(state: MemoryState) -> None:
            if project.id in state.projects:
                msg = f"duplicate project id {project.id}"
                raise ValueError(msg)
            state.projects[project.id] = replace(project, public_keys=())
            state.keys[project.id] = [
                StoredKey(pem, project.created_at) for pem in project.public_keys
            ]

        self.apply([write])

    async def set_webhook_url(self, project_id: str, url: str | None) -> bool:
        """Set or clear the webhook URL; False if there is no such project."""
        if project_id not in self.state.projects:
            return False

        def write(state: MemoryState) -> None:
            state.projects[project_id] = replace(state.projects[project_id], webhook_url=url)

        self.apply([write])
        return True

    async def set_project_settings(self, project: Project) -> None:
        """Store the project's settings."""

        def write(state: MemoryState) -> None:
            if project.id not in state.projects:
                msg = f"no project {project.id}"
                raise ConcurrentUpdate(msg)
            state.projects[project.id] = replace(
                state.projects[project.id],
                settings=project.settings,
            )

        self.apply([write])

    async def add_public_key(self, project_id: str, pem: str, now: datetime) -> None:
        """Add a key; keep the newest two active, retire older ones."""

        def write(state: MemoryState) -> None:
            if project_id not in state.projects:
                msg = f"no project {project_id}"
                raise ValueError(msg)
            keys = [*state.keys[project_id], StoredKey(pem, now)]
            active = [i for i, k in enumerate(keys) if k.retired_at is None]
            for i in active[:-MAX_ACTIVE_KEYS]:
                keys[i] = replace(keys[i], retired_at=now)
            state.keys[project_id] = keys

        self.apply([write])

    async def get_session(self, project_id: str, session_id: str) -> PaymentSession | None:
        """The project's session or None; another project's id is simply not found."""
        found = self.state.sessions.get(session_id)
        return found if found is not None and found.project_id == project_id else None

    async def count_sessions(self, project_id: str | None = None) -> int:
        """How many sessions exist (for one project, or all)."""
        return sum(
            1
            for s in self.state.sessions.values()
            if project_id is None or s.project_id == project_id
        )

    async def get_vault_entry(self, project_id: str, number_hash: str) -> VaultEntry | None:
        """The project's vaulted card, or None."""
        return self.state.vault.get((project_id, number_hash))

    async def find_session_by_payment(self, payment_id: str) -> PaymentSession | None:
        """The session holding the acquiring payment, or None."""
        for session in self.state.sessions.values():
            ops = {p.id for p in session.payments} | {p.id for p in session.payouts}
            ops |= {r.id for p in session.payments for r in p.refunds}
            if payment_id in ops:
                return session
        return None

    async def sessions_due(self, now: datetime, limit: int) -> list[PaymentSession]:
        """Sessions whose ``deadline_at`` has passed, oldest deadline first."""
        due = [
            s
            for s in self.state.sessions.values()
            if s.deadline_at is not None and s.deadline_at <= now
        ]
        return sorted(due, key=lambda s: (s.deadline_at or now, s.id))[:limit]

    async def get_recurrent_token(self, project_id: str, token: str) -> RecurrentToken | None:
        """The project's recurrent token, or None."""
        found = self.state.recurrent.get(token)
        return found if found is not None and found.project_id == project_id else None

    async def ledger_entries(self) -> list[LedgerEntry]:
        """Every posting with its transaction's context."""
        return [
            LedgerEntry(
                transaction_id=tx.id,
                project_id=tx.project_id,
                session_id=tx.session_id,
                kind=tx.kind.value,
                currency=tx.currency,
                account=p.account,
                amount=p.amount,
                operation_id=p.operation_id,
            )
            for tx in self.state.ledger
            for p in tx.postings
        ]

    async def account_sums(self, project_id: str, account: str) -> dict[str, int]:
        """Sum of the project's postings on ``account`` per currency."""
        sums: dict[str, int] = {}
        for tx in self.state.ledger:
            for p in tx.postings:
                if tx.project_id == project_id and p.account == account:
                    sums[tx.currency] = sums.get(tx.currency, 0) + p.amount
        return sums

    async def balances(self) -> list[Balance]:
        """Every balance row."""
        return [Balance(p, a, c, v) for (p, a, c), v in sorted(self.state.balances.items())]

    async def sessions_after(self, after_id: str, limit: int) -> list[PaymentSession]:
        """A page of sessions in id order."""
        return sorted(
            (s for s in self.state.sessions.values() if s.id > after_id), key=lambda s: s.id
        )[:limit]

    async def claim_idempotency(
        self,
        record: IdempotencyRecord,
        now: datetime,
    ) -> IdempotencyRecord | None:
        """Own the key (insert, or take over an abandoned or expired one) or return it."""
        slot = (record.project_id, record.key)
        existing = self.state.idempotency.get(slot)
        if existing is not None:
            abandoned = existing.state is IdempotencyState.RUNNING and existing.lease_until < now
            if existing.owner == record.owner or not (abandoned or existing.expires_at < now):
                return existing

        def write(state: MemoryState) -> None:
            state.idempotency[slot] = replace(
                record,
                state=IdempotencyState.RUNNING,
                response_status=None,
                response_body=None,
            )

        self.apply([write])
        return None

    async def release_idempotency(self, claim: IdempotencyClaim) -> None:
        """Forget a running key this request owns."""
        slot = (claim.project_id, claim.key)
        found = self.state.idempotency.get(slot)
        if (
            found is None
            or found.owner != claim.owner
            or found.state is not IdempotencyState.RUNNING
        ):
            return

        def write(state: MemoryState) -> None:
            del state.idempotency[slot]

        self.apply([write])

    def outbox(self, project_id: str | None = None) -> list[OutboxRecord]:
        """The outbox rows (of one project, or all), oldest first."""
        return [
            r for r in self.state.outbox if project_id is None or r.message.project_id == project_id
        ]

    async def close(self) -> None:
        """Nothing to release; remembers that it was closed."""
        self.closed = True
