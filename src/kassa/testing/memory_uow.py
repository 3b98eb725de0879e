"""The in-memory database state and its unit of work (the writes a use case collects)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Self

from kassa.domain.errors import ConcurrentUpdate, DeferredClaimLost, IdempotencyKeyAlreadyExists
from kassa.domain.ledger import EXTERNAL, overdrawn
from kassa.service.ports import IdempotencyState
from kassa.testing.memory_tokens import TokenWrites

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from types import TracebackType

    from kassa.domain.ledger import LedgerTransaction
    from kassa.domain.project import Project
    from kassa.domain.public_token import PublicToken
    from kassa.domain.recurrent import RecurrentToken
    from kassa.domain.session import PaymentSession
    from kassa.service.ports import (
        IdempotencyClaim,
        IdempotencyRecord,
        OutboxMessage,
        VaultEntry,
    )
    from kassa.testing.memory_store import InMemoryStore


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
    balances: dict[tuple[str, str, str], int] = field(default_factory=dict)

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
            balances=dict(self.balances),
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
            if claim.deferred is not None:  # insert the key, done, unless it exists
                if found is not None:
                    raise DeferredClaimLost
                state.idempotency[claim.project_id, claim.key] = replace(
                    claim.deferred,
                    state=IdempotencyState.DONE,
                    response_status=status,
                    response_body=body,
                )
                return
            if found is None or found.owner != claim.owner or found.state is IdempotencyState.DONE:
                msg = "idempotency key was taken over by another request"
                raise IdempotencyKeyAlreadyExists(msg)
            state.idempotency[claim.project_id, claim.key] = replace(
                found,
                state=IdempotencyState.DONE,
                response_status=status,
                response_body=body,
            )

        self._writes.append(write)

    def bind_idempotency(self, claim: IdempotencyClaim, until: datetime) -> None:
        """Bind the running key to the operation being committed; fails if the claim was lost.

        A deferred claim's key is inserted bound, unless it exists (``DeferredClaimLost``).
        """

        def write(state: MemoryState) -> None:
            found = state.idempotency.get((claim.project_id, claim.key))
            if claim.deferred is not None:
                if found is not None:
                    raise DeferredClaimLost
                state.idempotency[claim.project_id, claim.key] = replace(
                    claim.deferred, state=IdempotencyState.BOUND, lease_until=until
                )
                return
            if (
                found is None
                or found.owner != claim.owner
                or found.state is not IdempotencyState.RUNNING
            ):
                msg = "idempotency key was taken over by another request"
                raise IdempotencyKeyAlreadyExists(msg)
            state.idempotency[claim.project_id, claim.key] = replace(
                found, state=IdempotencyState.BOUND, lease_until=until
            )

        self._writes.append(write)

    def add_ledger_transaction(self, transaction: LedgerTransaction) -> None:
        """Append a balanced ledger transaction; internal balances never go below zero."""

        def write(state: MemoryState) -> None:
            state.ledger.append(transaction)
            for posting in transaction.postings:
                if posting.account in EXTERNAL:
                    continue
                key = (transaction.project_id, posting.account, transaction.currency)
                balance = state.balances.get(key, 0) + posting.amount
                if balance < 0:
                    raise overdrawn(posting.account, transaction.currency)
                state.balances[key] = balance

        self._writes.append(write)

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
