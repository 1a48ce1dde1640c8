"""Impressions: the ids a search showed (its first page), kept beside the search in the
search log so the click model can tell a result seen and skipped from one never seen.

Revision ID: 0012_search_impressions
Revises: 0011_network_outbox
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_search_impressions"
down_revision = "0011_network_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("search_events", sa.Column("shown", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("search_events", "shown")
