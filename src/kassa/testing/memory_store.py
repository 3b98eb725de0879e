"""``InMemoryStore``: the ``Store`` port in memory, held to the SQL stores' contract."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Self

from kassa.domain.errors import ConcurrentUpdate, IdempotencyKeyAlreadyExists
from kassa.domain.ledger import LedgerEntry
from kassa.domain.project import MAX_ACTIVE_KEYS, Project
from kassa.service.ports import IdempotencyState
from kassa.testing.memory_tokens import TokenReads, TokenWrites

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from types import TracebackType

    from kassa.domain.ledger import LedgerTransaction
    from kassa.domain.public_token import PublicToken
    from kassa.domain.recurrent import RecurrentToken
    from kassa.domain.session import PaymentSession
    from kassa.service.ports import (
        IdempotencyClaim,
        IdempotencyRecord,
        OutboxMessage,
        VaultEntry,
    )


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A project public key; ``retired_at`` is set once two newer keys exist."""

    pem: str
    created_at: datetime
    retired_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """An outbox row: the message and its delivery status (``pending`` or ``skipped``)."""

    id: int
    message: OutboxMessage
    status: str


@dataclass(slots=True)
class MemoryState:
    """Everything the fake database holds; a commit works on a copy and swaps it in."""

    projects: dict[str, Project] = field(default_factory=dict)
    keys: dict[str, list[StoredKey]] = field(default_factory=dict)
    sessions: dict[str, PaymentSession] = field(default_factory=dict)
    vault: dict[tuple[str, str], VaultEntry] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    outbox: list[OutboxRecord] = field(default_factory=list)
    ledger: list[LedgerTransaction] = field(default_factory=list)
    recurrent: dict[str, RecurrentToken] = field(default_factory=dict)
    public_tokens: dict[str, PublicToken] = field(default_factory=dict)

    def copy(self) -> MemoryState:
        """A copy whose containers can change without touching this one."""
        return MemoryState(
            projects=dict(self.projects),
            keys={pid: list(keys) for pid, keys in self.keys.items()},
            sessions=dict(self.sessions),
            vault=dict(self.vault),
            idempotency=dict(self.idempotency),
            outbox=list(self.outbox),
            ledger=list(self.ledger),
            recurrent=dict(self.recurrent),
            public_tokens=dict(self.public_tokens),
        )

    def project(self, project_id: str) -> Project:
        """The project with its active keys, oldest first."""
        active = tuple(k.pem for k in self.keys[project_id] if k.retired_at is None)
        return replace(self.projects[project_id], public_keys=active)


class InMemoryUnitOfWork(TokenWrites):
    """Collects writes; ``commit`` applies them to a copy of the state, then swaps it in."""

    def __init__(self, store: InMemoryStore) -> None:
        """Start empty."""
        self._store = store
        self._writes: list[Callable[[MemoryState], None]] = []
        self.committed = False

    async def __aenter__(self) -> Self:
        """Begin collecting."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Drop whatever was not committed."""
        self._writes.clear()

    def add_session(self, session: PaymentSession) -> None:
        """Insert a new session (a duplicate id fails the commit)."""

        def write(state: MemoryState) -> None:
            if session.id in state.sessions:
                msg = f"duplicate session id {session.id}"
                raise ValueError(msg)
            state.sessions[session.id] = session

        self._writes.append(write)

    def update_session(self, session: PaymentSession) -> None:
        """Write the session if its stored version is unchanged; bump the version."""

        def write(state: MemoryState) -> None:
            stored = state.sessions.get(session.id)
            if (
                stored is None
                or stored.project_id != session.project_id
                or stored.version != session.version
            ):
                msg = "the record changed under this request; retry"
                raise ConcurrentUpdate(msg)
            state.sessions[session.id] = replace(session, version=session.version + 1)

        self._writes.append(write)

    def add_vault_entry(self, entry: VaultEntry) -> None:
        """Store an encrypted card per project and hash.

        A later sighting with an expiry replaces the stored card data; one without keeps it.
        """

        def write(state: MemoryState) -> None:
            key = (entry.project_id, entry.card.number_hash)
            stored = state.vault.get(key)
            if stored is None:
                state.vault[key] = entry
            elif entry.card.expiration_month is not None:
                state.vault[key] = replace(entry, created_at=stored.created_at)

        self._writes.append(write)

    def add_outbox(self, message: OutboxMessage) -> None:
        """Queue a signed webhook (``skipped`` if the project has no URL)."""

        def write(state: MemoryState) -> None:
            status = "pending" if message.deliver else "skipped"
            state.outbox.append(OutboxRecord(len(state.outbox) + 1, message, status))

        self._writes.append(write)

    def complete_idempotency(self, claim: IdempotencyClaim, status: int, body: bytes) -> None:
        """Store the response under the claimed key; fails the commit if the claim was lost."""

        def write(state: MemoryState) -> None:
            found = state.idempotency.get((claim.project_id, claim.key))
            if (
                found is None
                or found.owner != claim.owner
                or found.state is not IdempotencyState.RUNNING
            ):
                msg = "idempotency key was taken over by another request"
                raise IdempotencyKeyAlreadyExists(msg)
            state.idempotency[claim.project_id, claim.key] = replace(
                found,
                state=IdempotencyState.DONE,
                response_status=status,
                response_body=body,
            )

        self._writes.append(write)

    def add_ledger_transaction(self, transaction: LedgerTransaction) -> None:
        """Append a balanced ledger transaction."""
        self._writes.append(lambda state: state.ledger.append(transaction))

    def add_recurrent_token(self, token: RecurrentToken) -> None:
        """Insert a recurrent token."""

        def write(state: MemoryState) -> None:
            state.recurrent[token.token] = token

        self._writes.append(write)

    def disable_recurrent_token(self, token: RecurrentToken) -> None:
        """Mark a recurrent token disabled (once)."""

        def write(state: MemoryState) -> None:
            stored = state.recurrent.get(token.token)
            if stored is not None and stored.disabled_at is None:
                state.recurrent[token.token] = replace(stored, disabled_at=token.disabled_at)

        self._writes.append(write)

    async def commit(self) -> None:
        """Apply every collected write, all or nothing."""
        self._store.apply(self._writes)
        self._writes.clear()
        self.committed = True


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
            if any(p.id == payment_id for p in session.payments):
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
