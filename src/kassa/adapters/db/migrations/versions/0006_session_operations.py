"""session_operations: find a session by any operation it holds (payments, refunds, payouts)

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-02 00:30:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table; fill it from the operations already in the sessions' ``doc``."""
    op.create_table(
        "session_operations",
        sa.Column("operation_id", sa.Text(), nullable=False),
        sa.Column("session_id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("operation_id"),
    )
    with op.batch_alter_table("session_operations", schema=None) as batch_op:
        batch_op.create_index("ix_session_operations_session", ["session_id"], unique=False)
    bind = op.get_bind()
    rows = []
    for session_id, project_id, doc in bind.execute(
        sa.text("SELECT id, project_id, doc FROM sessions")
    ).fetchall():
        parsed = json.loads(doc)
        for payment in parsed.get("payments") or []:
            rows.append((payment["id"], session_id, project_id))
            rows += [(r["id"], session_id, project_id) for r in payment.get("refunds") or []]
        rows += [(p["id"], session_id, project_id) for p in parsed.get("payouts") or []]
    if rows:
        bind.execute(
            sa.text(
                "INSERT INTO session_operations (operation_id, session_id, project_id) "
                "VALUES (:op, :session, :project)"
            ),
            [{"op": o, "session": s, "project": p} for o, s, p in rows],
        )


def downgrade() -> None:
    """Drop the table."""
    with op.batch_alter_table("session_operations", schema=None) as batch_op:
        batch_op.drop_index("ix_session_operations_session")
    op.drop_table("session_operations")
