"""The network topology of /network (remotes, shards, leader, self).

Revision ID: 0009_network
Revises: 0008_insight_events
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_network"
down_revision = "0008_insight_events"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    network = op.create_table(
        "network",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("topology", sa.Text, nullable=False),
        sa.Column("version", BigId, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=True),
    )
    op.bulk_insert(network, [{"id": 1, "topology": "{}", "version": 0}])


def downgrade() -> None:
    op.drop_table("network")
