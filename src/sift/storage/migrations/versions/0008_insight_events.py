"""Click and conversion events, and the search log's query uid and user id.

Revision ID: 0008_insight_events
Revises: 0007_sync_sources
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_insight_events"
down_revision = "0007_sync_sources"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("search_events") as batch:
        batch.add_column(sa.Column("query_uid", sa.String(36), nullable=True))
        batch.add_column(sa.Column("user_id", sa.String(128), nullable=True))
    op.create_index("ix_search_events_query_uid", "search_events", ["query_uid"])
    op.create_table(
        "insight_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("ts", sa.DateTime, nullable=False),
        sa.Column("event_type", sa.String(16), nullable=False),
        sa.Column("event_name", sa.String(256), nullable=False),
        sa.Column("index_uid", sa.String(512), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("query_uid", sa.String(36), nullable=True),
        sa.Column("object_id", sa.String(512), nullable=True),
        sa.Column("object_name", sa.String(256), nullable=True),
        sa.Column("position", sa.Integer, nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_insight_events_index_ts", "insight_events", ["index_uid", "ts"])
    op.create_index("ix_insight_events_ts", "insight_events", ["ts"])
    op.create_index("ix_insight_events_query_uid", "insight_events", ["query_uid"])


def downgrade() -> None:
    op.drop_table("insight_events")
    op.drop_index("ix_search_events_query_uid", "search_events")
    with op.batch_alter_table("search_events") as batch:
        batch.drop_column("user_id")
        batch.drop_column("query_uid")
