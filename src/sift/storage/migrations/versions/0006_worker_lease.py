"""The worker lease row: epoch (fencing token), heartbeat, holder, next batch uid.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    lease = op.create_table(
        "worker_lease",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("epoch", BigId, nullable=False),
        sa.Column("beat", BigId, nullable=False),
        sa.Column("holder", sa.String(128), nullable=True),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_batch_uid", BigId, nullable=False),
    )
    # Batch uids so far lived in the worker's memory: continue after the highest one used.
    used = op.get_bind().execute(sa.text("SELECT MAX(batch_uid) FROM tasks")).scalar()
    first = 0 if used is None else int(used) + 1
    op.bulk_insert(lease, [{"id": 1, "epoch": 0, "beat": 0, "holder": None,
                            "next_batch_uid": first}])  # fmt: skip


def downgrade() -> None:
    op.drop_table("worker_lease")
