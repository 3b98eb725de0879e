"""balances (concurrency-safe account balances) and processor_calls (the sandbox's own record)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_EXTERNAL = ("payer_funds", "external_payees")  # the outside world: no balance row


def upgrade() -> None:
    """Create both tables; fill the balances from the postings already in the ledger."""
    op.create_table(
        "balances",
        sa.Column("project_id", sa.Text(), nullable=False),
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "account", "currency"),
    )
    op.create_table(
        "processor_calls",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("operation_id", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("processor_calls", schema=None) as batch_op:
        batch_op.create_index("ix_processor_calls_operation", ["operation_id"], unique=False)
    op.get_bind().execute(
        sa.text(
            "INSERT INTO balances (project_id, account, currency, amount) "
            "SELECT project_id, account, currency, SUM(amount) FROM ledger_postings "
            "WHERE account NOT IN :external GROUP BY project_id, account, currency",
        ).bindparams(sa.bindparam("external", expanding=True)),
        {"external": list(_EXTERNAL)},
    )


def downgrade() -> None:
    """Drop both tables."""
    with op.batch_alter_table("processor_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_processor_calls_operation")
    op.drop_table("processor_calls")
    op.drop_table("balances")
