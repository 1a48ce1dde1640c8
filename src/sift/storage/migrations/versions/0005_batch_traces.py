"""Batch traces: the time each step of a batch took.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "batch_traces",
        sa.Column("batch_uid", BigId, primary_key=True, autoincrement=False),
        sa.Column("trace", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("batch_traces")
