"""dashboard: admin credentials, dashboard sessions, form tokens, audit log; search columns

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 04:15:00

The sessions table gains the columns the dashboard filters and searches on (filled on every
write by ``adapters/db/search_rows.py``, back-filled here from ``doc``), and the indexes: keyset
pages on ``(created_at, id)`` (per project, 0001's ``(project_id, created_at)`` serves), and
partial ones (a session with no card, reference or text adds no entry) on card last4,
customer reference and (PostgreSQL, when ``pg_trgm`` can be created) a trigram GIN index over
``search_text``; ``outbox (session_id, id)`` for the session page.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from kassa.adapters.db.search_rows import values_from_doc

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_HAS_LAST4 = sa.text("last4 IS NOT NULL")
_HAS_REF = sa.text("customer_ref IS NOT NULL")
_HAS_TEXT = sa.text("search_text IS NOT NULL")
SEARCH = ("amount", "currency", "kinds", "last4", "customer_ref", "search_text")


def _trigram(bind: sa.Connection) -> bool:
    """Create ``pg_trgm`` if allowed; False (and no trigram index) when it cannot be."""
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        return False
    return True


def upgrade() -> None:
    """Create the admin tables, add and fill the search columns, create the indexes."""
    op.create_table(
        "admin_users",
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "admin_sessions",
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_table(
        "admin_form_uses",
        sa.Column("nonce", sa.Text(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Text(), nullable=True),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_at", ["at", "id"], unique=False)
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("amount", sa.BigInteger(), nullable=True))
        for name in SEARCH[1:]:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=True))
    bind = op.get_bind()
    found = bind.execute(sa.text("SELECT id, doc FROM sessions")).fetchall()
    if found:
        bind.execute(
            sa.text(
                "UPDATE sessions SET amount = :amount, currency = :currency, kinds = :kinds, "
                "last4 = :last4, customer_ref = :customer_ref, search_text = :search_text "
                "WHERE id = :id"
            ),
            [
                {"id": sid, **dict(zip(SEARCH, values_from_doc(json.loads(doc)), strict=True))}
                for sid, doc in found
            ],
        )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_created_id", ["created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_sessions_last4",
            ["last4", "created_at"],
            unique=False,
            postgresql_where=_HAS_LAST4,
            sqlite_where=_HAS_LAST4,
        )
        batch_op.create_index(
            "ix_sessions_customer",
            ["customer_ref"],
            unique=False,
            postgresql_where=_HAS_REF,
            sqlite_where=_HAS_REF,
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_session_all", ["session_id", "id"], unique=False)
    if bind.dialect.name != "postgresql":
        with op.batch_alter_table("sessions", schema=None) as batch_op:
            batch_op.create_index(
                "ix_sessions_search", ["search_text"], unique=False, sqlite_where=_HAS_TEXT
            )
    elif _trigram(bind):
        op.create_index(
            "ix_sessions_search",
            "sessions",
            ["search_text"],
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            postgresql_where=_HAS_TEXT,
        )


def downgrade() -> None:
    """Drop the indexes, columns and tables."""
    op.execute("DROP INDEX IF EXISTS ix_sessions_search")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_session_all")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        for name in ("ix_sessions_customer", "ix_sessions_last4", "ix_sessions_created_id"):
            batch_op.drop_index(name)
        for name in reversed(SEARCH):
            batch_op.drop_column(name)
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_at")
    for table in ("audit_log", "admin_form_uses", "admin_sessions", "admin_users"):
        op.drop_table(table)
