"""The network's version (Meilisearch v1.30+): a UUID that every change of the /network
topology replaces, and the version each write owed to a remote was routed under.

Revision ID: 0013_network_version
Revises: 0012_search_impressions
Create Date: 2026-12-06
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0013_network_version"
down_revision = "0012_search_impressions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("network", sa.Column("network_version", sa.String(36), nullable=True))
    # The network as it stands gets a version of its own: GET /network always shows one.
    network = sa.table("network", sa.column("id"), sa.column("network_version"))
    op.execute(
        network.update().where(network.c.id == 1).values(network_version=str(uuid.uuid4()))
    )
    op.add_column("network_outbox", sa.Column("network_version", sa.String(36), nullable=True))


def downgrade() -> None:
    op.drop_column("network_outbox", "network_version")
    op.drop_column("network", "network_version")
