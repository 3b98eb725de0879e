"""Ports of the database: the store, its units of work, the outbox and idempotency records."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime
    from types import TracebackType

    from kassa.domain.json import JSONObject
    from kassa.domain.ledger import Balance, LedgerEntry, LedgerTransaction
    from kassa.domain.project import Project
    from kassa.domain.public_token import PublicToken
    from kassa.domain.recurrent import RecurrentToken
    from kassa.domain.session import PaymentSession
    from kassa.service.ports.basics import VaultEntry


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A signed webhook waiting in the outbox; the bytes are final at enqueue."""

    project_id: str
    session_id: str
    event_type: str
    body: bytes
    signature: str
    created_at: datetime
    deliver: bool  # False when the project has no webhook URL: recorded as skipped


class IdempotencyState(StrEnum):
    """Where a request under an idempotency key is."""

    RUNNING = "running"
    BOUND = "bound"  # its request committed an operation's intent; the record completes it
    DONE = "done"


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A stored idempotency key with its request fingerprint and, once done, its response."""

    project_id: str
    key: str
    fingerprint: str
    state: IdempotencyState
    owner: str
    lease_until: datetime
    expires_at: datetime
    response_status: int | None = None
    response_body: bytes | None = None
    created_at: datetime | None = None  # set on a deferred claim's record (stored with it)


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """Proof that this request owns the key; completing it stores the response.

    A *deferred* claim (``deferred`` holds the record to store) was never written: completing
    it inserts the key, already done, in the transaction that commits the request's writes —
    one statement fewer (``session/create``); binding it inserts the key bound to the
    operation whose intent that transaction commits (payments, refunds, payouts). If the key
    exists by then, that commit fails with ``DeferredClaimLost``.
    """

    project_id: str
    key: str
    owner: str
    deferred: IdempotencyRecord | None = None


class UnitOfWork(Protocol):
    """Collects the writes of one use case; ``commit`` applies them in one transaction.

    Leaving the context without ``commit`` discards everything. A session update checks the
    version it was loaded with and raises ``ConcurrentUpdate`` if another writer came first.
    """

    async def __aenter__(self) -> UnitOfWork:  # noqa: PYI034 - a Protocol returns itself
        """Start collecting writes."""
        ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Discard uncommitted writes."""
        ...

    def add_session(self, session: PaymentSession) -> None:
        """Insert a new session."""
        ...

    def update_session(self, session: PaymentSession) -> None:
        """Write ``session`` if the stored version still equals ``session.version``."""
        ...

    def add_vault_entry(self, entry: VaultEntry) -> None:
        """Store an encrypted card (no-op if the project already holds that hash)."""
        ...

    def add_outbox(self, message: OutboxMessage) -> None:
        """Queue a webhook in the same transaction as the state change."""
        ...

    def complete_idempotency(self, claim: IdempotencyClaim, status: int, body: bytes) -> None:
        """Store the response for the claimed (running or bound) key; fails if it was lost."""
        ...

    def bind_idempotency(self, claim: IdempotencyClaim, until: datetime) -> None:
        """Bind the running key to an operation's intent: never taken over, retry after ``until``.

        Fails the commit if the claim was lost (a deferred claim: if its key exists).
        """
        ...

    def add_ledger_transaction(self, transaction: LedgerTransaction) -> None:
        """Append a balanced ledger transaction with its postings."""
        ...

    def add_recurrent_token(self, token: RecurrentToken) -> None:
        """Insert a new recurrent token."""
        ...

    def disable_recurrent_token(self, token: RecurrentToken) -> None:
        """Mark the token disabled at ``token.disabled_at``."""
        ...

    def add_public_token(self, token: PublicToken) -> None:
        """Insert a new public token (by its hash)."""
        ...

    def use_public_token(self, token_hash: str, used_at: datetime, result: JSONObject) -> None:
        """Mark the token used, keeping what it produced.

        The commit fails with ``PublicTokenUsed`` if the token is already used (or unknown),
        so two completions of one token can never both commit.
        """
        ...

    async def commit(self) -> None:
        """Apply every collected write atomically."""
        ...


class Store(Protocol):
    """The repository: reads, claims and units of work over one database."""

    def unit_of_work(self) -> UnitOfWork:
        """Return a fresh unit of work."""
        ...

    async def get_project(self, project_id: str) -> Project | None:
        """Return the project, or None."""
        ...

    async def list_projects(self) -> list[Project]:
        """Return every project, oldest first."""
        ...

    async def add_project(self, project: Project) -> None:
        """Insert a project with its keys."""
        ...

    async def set_webhook_url(self, project_id: str, url: str | None) -> bool:
        """Set the project's webhook URL; False if there is no such project."""
        ...

    async def set_widget_origins(self, project_id: str, origins: tuple[str, ...]) -> bool:
        """Set the origins allowed to embed the widgets (empty: the default).

        Returns False if there is no such project.
        """
        ...

    async def set_project_settings(self, project: Project) -> None:
        """Store ``project.settings`` for an existing project."""
        ...

    async def add_public_key(self, project_id: str, pem: str, now: datetime) -> None:
        """Add a public key to the project, retiring the oldest beyond two."""
        ...

    async def get_session(self, project_id: str, session_id: str) -> PaymentSession | None:
        """Return the project's session, or None (also for another project's id)."""
        ...

    async def get_vault_entry(self, project_id: str, number_hash: str) -> VaultEntry | None:
        """Return the project's vaulted card, or None."""
        ...

    async def find_session_by_payment(self, payment_id: str) -> PaymentSession | None:
        """Return the session holding the operation ``payment_id`` (a payment, refund or payout)."""
        ...

    async def sessions_due(self, now: datetime, limit: int) -> list[PaymentSession]:
        """Return up to ``limit`` sessions whose ``deadline_at`` is at or before ``now``."""
        ...

    async def get_recurrent_token(self, project_id: str, token: str) -> RecurrentToken | None:
        """Return the project's recurrent token, or None (also for another project's)."""
        ...

    async def get_public_token(
        self, token_hash: str, project_id: str | None = None
    ) -> PublicToken | None:
        """The public token with this hash (only the project's, when ``project_id`` is given)."""
        ...

    async def take_card_attempt(self, token_hash: str, limit: int) -> bool:
        """Count one card attempt on the token if fewer than ``limit`` were made; False if not."""
        ...

    async def ledger_entries(self) -> list[LedgerEntry]:
        """Return every posting with its transaction's context, in insertion order."""
        ...

    async def account_sums(self, project_id: str, account: str) -> dict[str, int]:
        """Return the sum of the project's postings on ``account`` per currency."""
        ...

    async def balances(self) -> list[Balance]:
        """Return every balance row of an internal account."""
        ...

    async def sessions_after(self, after_id: str, limit: int) -> list[PaymentSession]:
        """Return up to ``limit`` sessions of any project with ids above ``after_id``, by id."""
        ...

    async def claim_idempotency(
        self,
        record: IdempotencyRecord,
        now: datetime,
    ) -> IdempotencyRecord | None:
        """Insert ``record`` (state running) unless the key exists and is live.

        Returns None when this call now owns the key, else the existing record. A running
        record whose lease has passed is taken over.
        """
        ...

    async def release_idempotency(self, claim: IdempotencyClaim) -> None:
        """Forget a running key this request owns, so the client can retry."""
        ...

    async def close(self) -> None:
        """Release connections and threads."""
        ...
