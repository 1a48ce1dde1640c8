"""Sync sources: stored change-stream positions and the rows that failed to convert.

Revision ID: 0007_sync_sources
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_sync_sources"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sync_sources",
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("position", sa.Text, nullable=False),
        sa.Column("snapshot", sa.Text, nullable=False),
        sa.Column("stats", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("version", BigId, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "sync_row_errors",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(256), nullable=False),
        sa.Column("source_table", sa.String(512), nullable=False),
        sa.Column("row_key", sa.String(512), nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sync_row_errors_source", "sync_row_errors", ["source", "id"])


def downgrade() -> None:
    op.drop_table("sync_row_errors")
    op.drop_table("sync_sources")
