"""public_tokens (widget tokens, by hash) and projects.widget_origins

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the origins column and the public tokens table."""
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("widget_origins", sa.Text(), nullable=True))
    op.create_table(
        "public_tokens",
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Text(), nullable=False),
        sa.Column("kinds", sa.Text(), nullable=False),
        sa.Column("session_id", sa.Text(), nullable=True),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.Column("card_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("public_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_public_tokens_project", ["project_id", "created_at"])
        batch_op.create_index("ix_public_tokens_expires", ["expires_at"])


def downgrade() -> None:
    """Drop both."""
    with op.batch_alter_table("public_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_public_tokens_expires")
        batch_op.drop_index("ix_public_tokens_project")
    op.drop_table("public_tokens")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("widget_origins")
