"""The database schema as SQLAlchemy Core metadata, used by Alembic only (never at run time).

Times are integer microseconds since the Unix epoch (UTC) in both dialects; aggregates are
JSON documents in ``doc`` with the columns that queries filter on beside them.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite rowid alias

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("webhook_url", sa.Text),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("widget_origins", sa.Text),  # JSON list; NULL: the webhook URL's origin
)

project_keys = sa.Table(
    "project_keys",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.Text, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("public_key_pem", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("retired_at", sa.BigInteger),
    sa.Index("ix_project_keys_project", "project_id"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("project_id", sa.Text, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("api_version", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("deadline_at", sa.BigInteger),  # earliest pending timeout, for the sweeper
    sa.Column("doc", sa.Text, nullable=False),
    sa.Column("payment_id", sa.Text),  # the latest acquiring payment (operations: below)
    # The dashboard's filters and search (adapters/db/search_rows.py, migration 0008).
    sa.Column("amount", sa.BigInteger),  # minor units of the draft (or first operation)
    sa.Column("currency", sa.Text),
    sa.Column("kinds", sa.Text),  # payment / refund / payout, space-separated
    sa.Column("last4", sa.Text),
    sa.Column("customer_ref", sa.Text),
    sa.Column("search_text", sa.Text),  # lowercased metadata + references
    # Keyset pages per project use this one; (created_at, id) below serves the list of all.
    sa.Index("ix_sessions_project_created", "project_id", "created_at"),
    sa.Index(  # the sweeper's deadline_at <= now; created sessions (NULL) add no entry
        "ix_sessions_deadline",
        "deadline_at",
        postgresql_where=sa.text("deadline_at IS NOT NULL"),
        sqlite_where=sa.text("deadline_at IS NOT NULL"),
    ),
    sa.Index("ix_sessions_created_id", "created_at", "id"),
    # Partial: a session without a card, reference or text (session/create) adds no entry.
    sa.Index(
        "ix_sessions_last4",
        "last4",
        "created_at",
        postgresql_where=sa.text("last4 IS NOT NULL"),
        sqlite_where=sa.text("last4 IS NOT NULL"),
    ),
    sa.Index(
        "ix_sessions_customer",
        "customer_ref",
        postgresql_where=sa.text("customer_ref IS NOT NULL"),
        sqlite_where=sa.text("customer_ref IS NOT NULL"),
    ),
    # PostgreSQL: a trigram GIN index for LIKE '%term%' (pg_trgm, created by 0008 when it
    # can be); SQLite gets a plain index of the same name (its LIKE scans either way).
    sa.Index(
        "ix_sessions_search",
        "search_text",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
        postgresql_where=sa.text("search_text IS NOT NULL"),
        sqlite_where=sa.text("search_text IS NOT NULL"),
    ),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("project_id", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("lease_until", sa.BigInteger, nullable=False),
    sa.Column("response_status", sa.Integer),
    sa.Column("response_body", sa.LargeBinary),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Index("ix_idempotency_expires", "expires_at"),
)

vault_cards = sa.Table(
    "vault_cards",
    metadata,
    sa.Column("project_id", sa.Text, primary_key=True),
    sa.Column("number_hash", sa.Text, primary_key=True),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("card", sa.Text, nullable=False),  # masked card JSON: brand, last4, bin, expiry
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.Text, nullable=False),
    sa.Column("session_id", sa.Text, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("signature", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # pending, delivered, failed, skipped
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
    sa.Column("give_up_at", sa.BigInteger),  # set at the first claim: the give-up clock
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_until", sa.BigInteger),
    sa.Column("finished_at", sa.BigInteger),
    sa.Column("last_error", sa.Text),
    sa.Column("replay_of", sa.BigInteger),
    # Partial indexes over pending rows only: delivered history never slows a claim.
    sa.Index(
        "ix_outbox_due",
        "next_attempt_at",
        "id",
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
    sa.Index(
        "ix_outbox_session",
        "session_id",
        "id",
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
    sa.Index("ix_outbox_project", "project_id", "id"),
    sa.Index("ix_outbox_session_all", "session_id", "id"),  # the dashboard's session page
)

delivery_attempts = sa.Table(
    "delivery_attempts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("outbox_id", sa.BigInteger, nullable=False),
    sa.Column("attempted_at", sa.BigInteger, nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("response_excerpt", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("worker", sa.Text),  # lease owner that made the attempt
    sa.Index("ix_delivery_attempts_outbox", "outbox_id"),
)

ledger_transactions = sa.Table(
    "ledger_transactions",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("project_id", sa.Text, nullable=False),
    sa.Column("session_id", sa.Text),
    sa.Column("operation_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index("ix_ledger_tx_project", "project_id", "created_at"),
)

ledger_postings = sa.Table(
    "ledger_postings",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("transaction_id", sa.Text, sa.ForeignKey("ledger_transactions.id"), nullable=False),
    sa.Column("project_id", sa.Text, nullable=False),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("operation_id", sa.Text, nullable=False),
    sa.Index("ix_ledger_postings_account", "project_id", "account", "currency"),
    sa.Index("ix_ledger_postings_operation", "operation_id"),
)

recurrent_tokens = sa.Table(
    "recurrent_tokens",
    metadata,
    sa.Column("token", sa.Text, primary_key=True),
    sa.Column("project_id", sa.Text, nullable=False),
    sa.Column("session_id", sa.Text, nullable=False),
    sa.Column("payment_id", sa.Text, nullable=False),
    sa.Column("number_hash", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("disabled_at", sa.BigInteger),
    sa.Index("ix_recurrent_tokens_project", "project_id"),
)

# One row per (project, internal account, currency): the balance its postings sum to, changed
# in the same transaction as the postings, a debit only ``WHERE amount >= debit``. Shared
# balances (the payout wallet) stay consistent under any number of concurrent sessions.
balances = sa.Table(
    "balances",
    metadata,
    sa.Column("project_id", sa.Text, primary_key=True),
    sa.Column("account", sa.Text, primary_key=True),
    sa.Column("currency", sa.Text, primary_key=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
)

# The sandbox processor's own record of what it did, keyed by the operation-scoped key kassa
# sends: the same key returns the stored answer and never acts twice (as a real acquirer).
processor_calls = sa.Table(
    "processor_calls",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),  # authorize, capture, release, refund, payout
    sa.Column("operation_id", sa.Text, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),  # JSON: outcome, code, references
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index("ix_processor_calls_operation", "operation_id"),
)

# Every operation id of a session (payments, refunds, payouts) → its session: the 3DS page,
# chargebacks and the dashboard find a session by any operation it holds, in one look-up.
session_operations = sa.Table(
    "session_operations",
    metadata,
    sa.Column("operation_id", sa.Text, primary_key=True),
    sa.Column("session_id", sa.Text, nullable=False),
    sa.Column("project_id", sa.Text, nullable=False),
    sa.Index("ix_session_operations_session", "session_id"),
)

# Public tokens of the card widgets, by the SHA-256 of the token (the token itself is never
# stored). ``card_attempts`` counts card form posts (rate limit), ``used_at`` the one operation.
public_tokens = sa.Table(
    "public_tokens",
    metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("project_id", sa.Text, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("kinds", sa.Text, nullable=False),  # widget kinds, space-separated
    sa.Column("session_id", sa.Text),
    sa.Column("options", sa.Text, nullable=False),  # JSON: each widget's settings
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("used_at", sa.BigInteger),
    sa.Column("card_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("result", sa.Text),  # JSON: what the operation produced (number_hash, brand…)
    sa.Index("ix_public_tokens_project", "project_id", "created_at"),
    sa.Index("ix_public_tokens_expires", "expires_at"),
)


# The dashboard's operator (one "admin" user in v1): the password's scrypt hash only.
admin_users = sa.Table(
    "admin_users",
    metadata,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

# Dashboard log-ins by the SHA-256 of the cookie's token (the token itself is never stored).
admin_sessions = sa.Table(
    "admin_sessions",
    metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("username", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("last_seen_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
)

# Form tokens already used: each dashboard form acts once (double submits do nothing).
admin_form_uses = sa.Table(
    "admin_form_uses",
    metadata,
    sa.Column("nonce", sa.Text, primary_key=True),
    sa.Column("used_at", sa.BigInteger, nullable=False),
)

# Every dashboard action: who, from where, what, on which project, the state before and after.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", sa.BigInteger, nullable=False),
    sa.Column("username", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("project_id", sa.Text),
    sa.Column("target", sa.Text),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("before", sa.Text),
    sa.Column("after", sa.Text),
    sa.Index("ix_audit_log_at", "at", "id"),
)
