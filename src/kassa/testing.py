"""In-memory fakes for every port in ``kassa.service.ports``; unit tests wire handlers with them.

``InMemoryStore`` runs the same contract tests as the SQLite and PostgreSQL stores
(``tests/store_contract.py``), so it cannot drift from them: a unit of work applies all of its
writes or none, a session update checks the version it was loaded with, an idempotency claim
can be taken over only once its lease or retention has passed.

When a port gains a method, add it here too (and to the contract tests).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Self

from kassa.domain.errors import ConcurrentUpdate, IdempotencyKeyAlreadyExists
from kassa.domain.ledger import LedgerEntry
from kassa.domain.payment import TransactionInfo
from kassa.domain.project import MAX_ACTIVE_KEYS, Project
from kassa.domain.sandbox import Outcome, decide, needs_challenge, references
from kassa.service.delivery_ports import (
    Delivery,
    DeliveryStatus,
    DeliveryView,
    QueueStats,
    SendResult,
)
from kassa.service.deps import Deps
from kassa.service.idempotency import IdempotencyPolicy
from kassa.service.ports import Authorization, IdempotencyState

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import TracebackType

    from kassa.domain.ledger import LedgerTransaction
    from kassa.domain.money import Money
    from kassa.domain.recurrent import RecurrentToken
    from kassa.domain.session import PaymentSession
    from kassa.service.delivery_ports import AttemptRecord, DeliveryOutcome
    from kassa.service.ports import (
        AuthorizationRequest,
        IdempotencyClaim,
        IdempotencyRecord,
        OutboxMessage,
        VaultEntry,
    )

EPOCH_OF_TESTS = datetime(2024, 5, 27, 2, 3, tzinfo=UTC)


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = EPOCH_OF_TESTS) -> None:
        """Stand still at ``start`` (aware UTC)."""
        self._now = start

    def now(self) -> datetime:
        """The frozen time."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta``; return the new time."""
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to ``moment``."""
        self._now = moment


class FakeSigner:
    """Signs with a keyed SHA-256 instead of RSA (fast, deterministic); remembers the bodies."""

    def __init__(self) -> None:
        """Nothing signed yet."""
        self.signed: list[bytes] = []

    def sign(self, body: bytes) -> str:
        """Base64 of SHA-256 over a fixed prefix and ``body``."""
        self.signed.append(body)
        return base64.b64encode(hashlib.sha256(b"fake-signer:" + body).digest()).decode("ascii")

    def verify(self, body: bytes, signature: str) -> bool:
        """True if ``signature`` is what ``sign`` gives for ``body``."""
        expected = base64.b64encode(hashlib.sha256(b"fake-signer:" + body).digest())
        return expected.decode("ascii") == signature


class FakeVault:
    """Deterministic stand-in for the AES vault; the ciphertext never holds the clear digits."""

    _MASK = 0x5A

    def number_hash(self, project_id: str, pan: str) -> str:
        """SHA-256 of project and number (hex), scoped per project like the real vault."""
        return hashlib.sha256(f"fake-vault:{project_id}:{pan}".encode()).hexdigest()

    def encrypt(self, pan: str) -> bytes:
        """Every byte XOR-ed with a constant: reversible, and no digit survives."""
        return bytes(b ^ self._MASK for b in pan.encode("ascii"))

    def decrypt(self, ciphertext: bytes) -> str:
        """Inverse of ``encrypt``."""
        return bytes(b ^ self._MASK for b in ciphertext).decode("ascii")


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
        )

    def project(self, project_id: str) -> Project:
        """The project with its active keys, oldest first."""
        active = tuple(k.pem for k in self.keys[project_id] if k.retired_at is None)
        return replace(self.projects[project_id], public_keys=active)


class InMemoryUnitOfWork:
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
        """Store an encrypted card once per project and hash."""

        def write(state: MemoryState) -> None:
            state.vault.setdefault((entry.project_id, entry.card.number_hash), entry)

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


class InMemoryStore:
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


class FakeProcessor:
    """``Processor`` deciding by the sandbox's test-card table; remembers every call.

    ``calls`` holds ``(operation, operation_id, minor units)``; card numbers are not kept.
    """

    def __init__(self, clock: FrozenClock | None = None) -> None:
        """Decide expiry against ``clock`` (default: a fresh frozen clock)."""
        self.clock = clock or FrozenClock()
        self.calls: list[tuple[str, str, int]] = []

    async def authorize(self, request: AuthorizationRequest) -> Authorization:
        """Approve, challenge or decline like the sandbox."""
        self.calls.append(("authorize", request.operation_id, request.amount.minor))
        decision = decide(
            request.pan,
            month=request.expiration_month,
            year=request.expiration_year,
            today=self.clock.now().date(),
            challenge=needs_challenge(request.pan, initiator=request.initiator),
            three_ds_passed=request.three_ds_passed,
        )
        if decision.outcome is not Outcome.APPROVED:
            return Authorization(decision)
        return Authorization(decision, TransactionInfo(*references(request.operation_id)))

    async def capture(self, operation_id: str, amount: Money) -> None:
        """Record a capture."""
        self.calls.append(("capture", operation_id, amount.minor))

    async def release(self, operation_id: str, amount: Money) -> None:
        """Record a release."""
        self.calls.append(("release", operation_id, amount.minor))

    async def refund(self, operation_id: str, amount: Money) -> TransactionInfo:
        """Record a refund."""
        self.calls.append(("refund", operation_id, amount.minor))
        return TransactionInfo(*references(operation_id))


def fake_deps(
    *,
    store: InMemoryStore | None = None,
    clock: FrozenClock | None = None,
    vault: FakeVault | None = None,
    signer: FakeSigner | None = None,
    idempotency: IdempotencyPolicy | None = None,
    processor: FakeProcessor | None = None,
) -> Deps:
    """``Deps`` made of fakes; pass any part to keep a handle on it."""
    clock = clock or FrozenClock()
    return Deps(
        store=store or InMemoryStore(),
        clock=clock,
        vault=vault or FakeVault(),
        signer=signer or FakeSigner(),
        idempotency=idempotency or IdempotencyPolicy(),
        processor=processor or FakeProcessor(clock),
    )


@dataclass(slots=True)
class _DeliveryRow:
    """Delivery state of one fake outbox row."""

    record: OutboxRecord
    status: DeliveryStatus
    next_attempt_at: datetime
    attempts: int = 0
    give_up_at: datetime | None = None
    lease_owner: str | None = None
    finished_at: datetime | None = None
    last_error: str | None = None
    replay_of: int | None = None
    log: list[AttemptRecord] = field(default_factory=list)

    def view(self) -> DeliveryView:
        """As ``kassa webhooks list`` shows it."""
        message = self.record.message
        return DeliveryView(
            id=self.record.id,
            project_id=message.project_id,
            session_id=message.session_id,
            event_type=message.event_type,
            status=self.status,
            attempts=self.attempts,
            created_at=message.created_at,
            next_attempt_at=self.next_attempt_at,
            give_up_at=self.give_up_at,
            finished_at=self.finished_at,
            last_error=self.last_error,
            replay_of=self.replay_of,
            attempt_log=tuple(self.log),
        )


class InMemoryDeliveries:
    """``DeliveryStore`` over an ``InMemoryStore``'s outbox (same contract as the SQL one)."""

    def __init__(self, store: InMemoryStore) -> None:
        """Deliver the rows that units of work add to ``store``."""
        self.store = store
        self.rows: dict[int, _DeliveryRow] = {}

    def _sync(self) -> list[_DeliveryRow]:
        for record in self.store.state.outbox:
            if record.id not in self.rows:
                status = DeliveryStatus(record.status)
                self.rows[record.id] = _DeliveryRow(record, status, record.message.created_at)
        return [self.rows[i] for i in sorted(self.rows)]

    def _due(self, now: datetime) -> list[_DeliveryRow]:
        rows = self._sync()
        blocked: set[str] = set()
        due = []
        for row in rows:
            if row.status is not DeliveryStatus.PENDING:
                continue
            session = row.record.message.session_id
            if session not in blocked and row.next_attempt_at <= now:
                due.append(row)
            blocked.add(session)
        return sorted(due, key=lambda r: (r.next_attempt_at, r.record.id))

    async def has_due(self, now: datetime) -> bool:
        """True if some row is due."""
        return bool(self._due(now))

    async def claim(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        give_up_at: datetime,
        limit: int,
    ) -> list[Delivery]:
        """Lease up to ``limit`` due rows."""
        out = []
        for row in self._due(now)[:limit]:
            row.lease_owner = owner
            row.next_attempt_at = lease_until
            row.give_up_at = row.give_up_at or give_up_at
            message = row.record.message
            project = self.store.state.projects.get(message.project_id)
            out.append(
                Delivery(
                    id=row.record.id,
                    project_id=message.project_id,
                    session_id=message.session_id,
                    event_type=message.event_type,
                    body=message.body,
                    signature=message.signature,
                    attempts=row.attempts,
                    created_at=message.created_at,
                    give_up_at=row.give_up_at,
                    webhook_url=None if project is None else project.webhook_url,
                ),
            )
        return sorted(out, key=lambda d: d.id)

    async def record(self, owner: str, outcomes: Sequence[DeliveryOutcome]) -> int:
        """Log the attempts; apply the outcomes whose lease ``owner`` still holds."""
        updated = 0
        for outcome in outcomes:
            row = self.rows[outcome.delivery_id]
            if outcome.attempt is not None:
                row.log.append(outcome.attempt)
            if row.lease_owner != owner or row.status is not DeliveryStatus.PENDING:
                continue
            updated += 1
            row.status = outcome.status
            row.attempts += 0 if outcome.attempt is None else 1
            row.next_attempt_at = outcome.next_attempt_at or row.next_attempt_at
            row.finished_at = (
                None if outcome.status is DeliveryStatus.PENDING else outcome.decided_at
            )
            row.last_error = outcome.error
            row.lease_owner = None
        return updated

    async def release(self, owner: str, ids: Sequence[int], now: datetime) -> None:
        """Give leased rows back, due at ``now``."""
        for i in ids:
            row = self.rows.get(i)
            if row and row.lease_owner == owner and row.status is DeliveryStatus.PENDING:
                row.lease_owner = None
                row.next_attempt_at = now

    async def list_deliveries(
        self,
        *,
        project_id: str | None = None,
        failed_only: bool = False,
        limit: int = 50,
    ) -> list[DeliveryView]:
        """Newest first."""
        rows = [
            r
            for r in reversed(self._sync())
            if (project_id is None or r.record.message.project_id == project_id)
            and (not failed_only or r.status is DeliveryStatus.FAILED)
        ]
        return [r.view() for r in rows[:limit]]

    async def get_delivery(self, delivery_id: int) -> DeliveryView | None:
        """One delivery, or None."""
        self._sync()
        row = self.rows.get(delivery_id)
        return None if row is None else row.view()

    async def replay(self, delivery_id: int, now: datetime) -> DeliveryView | None:
        """A fresh row with the same bytes (skipped without a webhook URL)."""
        self._sync()
        original = self.rows.get(delivery_id)
        if original is None:
            return None
        project = self.store.state.projects.get(original.record.message.project_id)
        status = "pending" if project is not None and project.webhook_url else "skipped"
        message = replace(original.record.message, created_at=now)

        def write(state: MemoryState) -> None:
            state.outbox.append(OutboxRecord(len(state.outbox) + 1, message, status))

        self.store.apply([write])
        self._sync()
        copy = self.rows[len(self.store.state.outbox)]
        copy.replay_of = delivery_id
        return copy.view()

    async def queue_stats(self) -> QueueStats:
        """Pending rows and the oldest creation time."""
        pending = [r for r in self._sync() if r.status is DeliveryStatus.PENDING]
        oldest = min((r.record.message.created_at for r in pending), default=None)
        return QueueStats(len(pending), oldest)


class ScriptedSender:
    """``WebhookSender`` that answers from a script (default: 200) and remembers every call."""

    def __init__(self, *answers: SendResult | int) -> None:
        """Answer with ``answers`` in turn (an int is an HTTP status), then 200."""
        self.answers = list(answers)
        self.sent: list[tuple[str, bytes, str]] = []
        self.closed = False

    async def send(self, url: str, body: bytes, signature: str) -> SendResult:
        """Record the call and give the next scripted answer."""
        self.sent.append((url, body, signature))
        answer = self.answers.pop(0) if self.answers else 200
        return SendResult(answer, 1.0) if isinstance(answer, int) else answer

    async def close(self) -> None:
        """Remember that it was closed."""
        self.closed = True
