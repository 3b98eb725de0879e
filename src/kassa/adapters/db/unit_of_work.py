"""The SQL unit of work: statements collected by a use case, applied as one transaction.

Ledger transactions also move the ``balances`` rows of the internal accounts they touch, in
the same transaction: credits upsert, debits only ``WHERE amount >= debit``, so a balance many
sessions share (the payout wallet) can never go below zero under concurrent writers. The
balance statements come last and in one fixed order (project, account, currency), so two
transactions never wait for each other's rows in opposite orders.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import TYPE_CHECKING, Self

from kassa.adapters.db import acquiring_sql, instrument_rows, rows, session_rows, tokens_sql
from kassa.adapters.db.driver import Stmt
from kassa.adapters.db.search_rows import SEARCH_COLUMNS, search_values
from kassa.domain.errors import DeferredClaimLost, IdempotencyKeyAlreadyExists
from kassa.domain.ledger import EXTERNAL, overdrawn
from kassa.service.ports import IdempotencyState

if TYPE_CHECKING:
    from datetime import datetime
    from types import TracebackType

    from kassa.adapters.db.driver import Driver
    from kassa.domain.json import JSONObject
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

_SEARCH = ", ".join(SEARCH_COLUMNS)
_SEARCH_MARKS = ", ".join("?" * len(SEARCH_COLUMNS))
_SEARCH_SET = ", ".join(f"{c} = ?" for c in SEARCH_COLUMNS)


def claim_lost() -> IdempotencyKeyAlreadyExists:
    """The error of a statement whose idempotency claim was taken over."""
    return IdempotencyKeyAlreadyExists("idempotency key was taken over by another request")


def deferred_key_statement(
    record: IdempotencyRecord,
    status: int | None,
    body: bytes | None,
    *,
    bound_until: datetime | None = None,
) -> Stmt:
    """Insert a deferred claim's key, done with its reply; fails the batch if the key exists.

    With ``bound_until`` (and no reply): the key is inserted bound to the operation being
    committed, its lease until then, as ``bind_idempotency`` would leave an eager claim.
    """
    state = IdempotencyState.DONE if bound_until is None else IdempotencyState.BOUND
    lease_until = record.lease_until if bound_until is None else bound_until
    return Stmt(
        "INSERT INTO idempotency_keys (project_id, key, fingerprint, owner, lease_until, state, "
        "created_at, expires_at, response_status, response_body) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, key) DO NOTHING",
        (
            record.project_id,
            record.key,
            record.fingerprint,
            record.owner,
            rows.to_us(lease_until),
            state.value,
            rows.to_us(record.created_at or record.lease_until),
            rows.to_us(record.expires_at),
            status,
            body,
        ),
        expect=1,
        error=DeferredClaimLost,
    )


def balance_statements(deltas: dict[tuple[str, str, str], int]) -> list[Stmt]:
    """The ``balances`` changes of one transaction, in a fixed order; debits are guarded.

    Each names its row, one per account, so a batch with a debit and a credit (a capture:
    ``holds`` → ``merchant_balance``) still runs as one statement on PostgreSQL.
    """
    stmts = []
    for (project_id, account, currency), delta in sorted(deltas.items()):
        row = ("balances", project_id, account, currency)
        if delta > 0:
            stmts.append(
                Stmt(
                    "INSERT INTO balances (project_id, account, currency, amount) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (project_id, account, currency) "
                    "DO UPDATE SET amount = balances.amount + excluded.amount",
                    (project_id, account, currency, delta),
                    row=row,
                ),
            )
        elif delta < 0:
            stmts.append(
                Stmt(
                    "UPDATE balances SET amount = amount + ? WHERE project_id = ? "
                    "AND account = ? AND currency = ? AND amount >= ?",
                    (delta, project_id, account, currency, -delta),
                    expect=1,
                    error=functools.partial(overdrawn, account, currency),
                    row=row,
                ),
            )
    return stmts


class SqlUnitOfWork:
    """Collects statements; ``commit`` hands them to the driver as one transaction."""

    def __init__(self, driver: Driver) -> None:
        """Start empty."""
        self._driver = driver
        self._stmts: list[Stmt] = []
        self._balances: dict[tuple[str, str, str], int] = defaultdict(int)
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
        self._stmts.clear()
        self._balances.clear()

    def add(self, stmt: Stmt) -> None:
        """Queue a raw statement (for adapters extending the store)."""
        self._stmts.append(stmt)

    def add_session(self, session: PaymentSession) -> None:
        """Insert a new session."""
        self._stmts.append(
            Stmt(
                f"INSERT INTO sessions ({session_rows.SESSION_COLUMNS}, {_SEARCH}) "
                f"VALUES ({session_rows.SESSION_MARKS}, {_SEARCH_MARKS})",
                (*session_rows.session_params(session), *search_values(session)),
            ),
        )
        self._index_operations(session)

    def _index_operations(self, session: PaymentSession) -> None:
        """One statement listing every operation id of the session (new ones are added)."""
        ids = [p.id for p in session.payments]
        ids += [r.id for p in session.payments for r in p.refunds]
        ids += [p.id for p in session.payouts]
        if ids:
            marks = ", ".join("(?, ?, ?)" for _ in ids)
            params = [v for op_id in ids for v in (op_id, session.id, session.project_id)]
            self._stmts.append(
                Stmt(
                    "INSERT INTO session_operations (operation_id, session_id, project_id) "
                    f"VALUES {marks} ON CONFLICT (operation_id) DO NOTHING",
                    params,
                ),
            )

    def update_session(self, session: PaymentSession) -> None:
        """Write the session if nobody changed it since it was loaded; bump its version."""
        self._stmts.append(
            Stmt(
                "UPDATE sessions SET status = ?, version = ?, updated_at = ?, deadline_at = ?, "
                f"doc = ?, payment_id = ?, {_SEARCH_SET} "
                "WHERE id = ? AND project_id = ? AND version = ?",
                (
                    session.status.value,
                    session.version + 1,
                    rows.to_us(session.updated_at),
                    rows.opt_to_us(session.deadline_at),
                    session_rows.session_doc(session),
                    None if session.payment is None else session.payment.id,
                    *search_values(session),
                    session.id,
                    session.project_id,
                    session.version,
                ),
                expect=1,
            ),
        )
        self._index_operations(session)

    def add_vault_entry(self, entry: VaultEntry) -> None:
        """Store an encrypted card per project and hash.

        A later sighting with an expiry replaces the stored card data; one without keeps it.
        """
        on_conflict = (
            "DO UPDATE SET ciphertext = excluded.ciphertext, card = excluded.card"
            if entry.card.expiration_month is not None
            else "DO NOTHING"
        )
        self._stmts.append(
            Stmt(
                "INSERT INTO vault_cards (project_id, number_hash, ciphertext, card, created_at) "
                f"VALUES (?, ?, ?, ?, ?) ON CONFLICT (project_id, number_hash) {on_conflict}",
                (
                    entry.project_id,
                    entry.card.number_hash,
                    entry.ciphertext,
                    rows.dumps(instrument_rows.card_to_json(entry.card)),
                    rows.to_us(entry.created_at),
                ),
            ),
        )

    def add_outbox(self, message: OutboxMessage) -> None:
        """Queue a signed webhook (``skipped`` if the project has no URL)."""
        created = rows.to_us(message.created_at)
        self._stmts.append(
            Stmt(
                "INSERT INTO outbox (project_id, session_id, event_type, body, signature, status, "
                "attempts, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (
                    message.project_id,
                    message.session_id,
                    message.event_type,
                    message.body,
                    message.signature,
                    "pending" if message.deliver else "skipped",
                    created,
                    created,
                ),
            ),
        )

    def complete_idempotency(self, claim: IdempotencyClaim, status: int, body: bytes) -> None:
        """Store the final response under the claimed key (insert it, if the claim deferred)."""
        if claim.deferred is not None:
            self._stmts.append(deferred_key_statement(claim.deferred, status, body))
            return
        self._stmts.append(
            Stmt(
                "UPDATE idempotency_keys SET state = ?, response_status = ?, response_body = ? "
                "WHERE project_id = ? AND key = ? AND owner = ? AND state IN (?, ?)",
                (
                    IdempotencyState.DONE.value,
                    status,
                    body,
                    claim.project_id,
                    claim.key,
                    claim.owner,
                    IdempotencyState.RUNNING.value,
                    IdempotencyState.BOUND.value,
                ),
                expect=1,
                error=claim_lost,
            ),
        )

    def bind_idempotency(self, claim: IdempotencyClaim, until: datetime) -> None:
        """Bind the running key to the operation being committed (no take-over from now on).

        A deferred claim's key is inserted bound, here; if it exists the commit fails.
        """
        if claim.deferred is not None:
            self._stmts.append(
                deferred_key_statement(claim.deferred, None, None, bound_until=until)
            )
            return
        self._stmts.append(
            Stmt(
                "UPDATE idempotency_keys SET state = ?, lease_until = ? "
                "WHERE project_id = ? AND key = ? AND owner = ? AND state = ?",
                (
                    IdempotencyState.BOUND.value,
                    rows.to_us(until),
                    claim.project_id,
                    claim.key,
                    claim.owner,
                    IdempotencyState.RUNNING.value,
                ),
                expect=1,
                error=claim_lost,
            ),
        )

    def add_ledger_transaction(self, transaction: LedgerTransaction) -> None:
        """Append a balanced ledger transaction and its postings; move the internal balances."""
        self._stmts += acquiring_sql.ledger_statements(transaction)
        for posting in transaction.postings:
            if posting.account not in EXTERNAL:
                key = (transaction.project_id, posting.account, transaction.currency)
                self._balances[key] += posting.amount

    def add_recurrent_token(self, token: RecurrentToken) -> None:
        """Insert a recurrent token."""
        self._stmts.append(acquiring_sql.add_recurrent_statement(token))

    def disable_recurrent_token(self, token: RecurrentToken) -> None:
        """Mark a recurrent token disabled."""
        self._stmts.append(acquiring_sql.disable_recurrent_statement(token))

    def add_public_token(self, token: PublicToken) -> None:
        """Insert a public token."""
        self._stmts.append(tokens_sql.add_token_statement(token))

    def use_public_token(self, token_hash: str, used_at: datetime, result: JSONObject) -> None:
        """Mark a public token used (once)."""
        self._stmts.append(tokens_sql.use_token_statement(token_hash, used_at, result))

    async def commit(self) -> None:
        """Apply every queued statement in one transaction (balance changes last)."""
        stmts = [*self._stmts, *balance_statements(self._balances)]
        if stmts:
            await self._driver.write(stmts)
        self._stmts.clear()
        self._balances.clear()
        self.committed = True
