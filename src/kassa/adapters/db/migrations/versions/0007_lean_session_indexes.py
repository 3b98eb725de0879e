"""sessions: fewer index entries per write (the hot path of session/create)

``ix_sessions_payment`` has had no reader since 0006 (``session_operations`` finds a session
by any of its operations), and ``ix_sessions_deadline`` only serves the sweeper's
``deadline_at <= now``, which never matches a NULL: it becomes partial, so a session with no
pending timeout (every created session) adds no entry to it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_PENDING = sa.text("deadline_at IS NOT NULL")


def upgrade() -> None:
    """Drop the unread index; rebuild the deadline index as a partial one."""
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_payment")
        batch_op.drop_index("ix_sessions_deadline")
        batch_op.create_index(
            "ix_sessions_deadline",
            ["deadline_at"],
            unique=False,
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        )


def downgrade() -> None:
    """Both indexes as 0006 had them."""
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_deadline")
        batch_op.create_index("ix_sessions_deadline", ["deadline_at"], unique=False)
        batch_op.create_index("ix_sessions_payment", ["payment_id"], unique=False)
