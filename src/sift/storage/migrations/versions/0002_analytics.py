"""Search analytics events and admin dashboard sessions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "search_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("ts", sa.DateTime, nullable=False),
        sa.Column("index_uid", sa.String(512), nullable=False),
        sa.Column("query", sa.String(256), nullable=False),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.Column("processing_ms", sa.Integer, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_search_events_ts", "search_events", ["ts"])
    op.create_index("ix_search_events_index_ts", "search_events", ["index_uid", "ts"])
    op.create_table(
        "admin_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("principal", sa.String(64), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_admin_sessions_expires", "admin_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_table("admin_sessions")
    op.drop_table("search_events")
