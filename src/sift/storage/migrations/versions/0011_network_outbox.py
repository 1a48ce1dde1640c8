"""The leader's outbox of writes owed to remotes with databases of their own.

Revision ID: 0011_network_outbox
Revises: 0010_search_rules
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_network_outbox"
down_revision = "0010_search_rules"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "network_outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("remote", sa.String(128), nullable=False),
        sa.Column("task_uid", BigId, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("due_at", sa.DateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_network_outbox_remote", "network_outbox", ["remote", "id"])


def downgrade() -> None:
    op.drop_table("network_outbox")
