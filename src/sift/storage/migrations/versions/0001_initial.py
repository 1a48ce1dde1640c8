"""Initial schema: indexes, documents, tasks, task payloads, API keys, meta.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "indexes",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.String(512), nullable=False, unique=True),
        sa.Column("primary_key", sa.String(512), nullable=True),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "documents",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "index_id", BigId, sa.ForeignKey("indexes.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("doc_id", sa.String(512), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("index_id", "doc_id", name="uq_documents_index_doc"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "tasks",
        sa.Column("uid", BigId, primary_key=True, autoincrement=True),
        sa.Column("batch_uid", BigId, nullable=True),
        sa.Column("index_uid", sa.String(512), nullable=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("details", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("canceled_by", BigId, nullable=True),
        sa.Column("params", sa.Text, nullable=True),
        sa.Column("enqueued_at", sa.DateTime, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=True),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_tasks_status_uid", "tasks", ["status", "uid"])
    op.create_index("ix_tasks_index_uid", "tasks", ["index_uid", "uid"])
    op.create_table(
        "task_payloads",
        sa.Column(
            "task_uid",
            BigId,
            sa.ForeignKey("tasks.uid", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("uid", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(512), nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("actions", sa.Text, nullable=False),
        sa.Column("indexes", sa.Text, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("meta", "api_keys", "task_payloads", "tasks", "documents", "indexes"):
        op.drop_table(table)
