"""sessions.payment_id: find a session by its acquiring payment through an index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:10:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column and its index; fill it from the payments already in ``doc``."""
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_id", sa.Text(), nullable=True))
        batch_op.create_index("ix_sessions_payment", ["payment_id"], unique=False)
    bind = op.get_bind()
    found = bind.execute(
        sa.text("SELECT id, doc FROM sessions WHERE doc LIKE :pattern"),
        {"pattern": '%"payments":[%'},
    )
    for session_id, doc in found.fetchall():
        payments = json.loads(doc).get("payments") or []
        if payments:
            bind.execute(
                sa.text("UPDATE sessions SET payment_id = :payment WHERE id = :id"),
                {"payment": payments[-1]["id"], "id": session_id},
            )


def downgrade() -> None:
    """Drop the column and its index."""
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_payment")
        batch_op.drop_column("payment_id")
