"""Search rules (Meilisearch's /dynamic-search-rules): pins, boosts and hides per query.

Revision ID: 0010_search_rules
Revises: 0009_network
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_search_rules"
down_revision = "0009_network"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "search_rules",
        sa.Column("uid", sa.String(512), primary_key=True),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("precedence", BigId, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("search_rules")
