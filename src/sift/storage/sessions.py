"""Admin dashboard sessions, kept server-side; the browser holds only a random token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sift.storage.schema import admin_sessions


@dataclass(frozen=True)
class SessionRecord:
    id: str
    principal: str
    csrf: str
    created_at: datetime
    expires_at: datetime


def insert(conn: Connection, record: SessionRecord) -> None:
    conn.execute(
        sa.insert(admin_sessions).values(
            id=record.id,
            principal=record.principal,
            csrf=record.csrf,
            created_at=record.created_at,
            expires_at=record.expires_at,
        )
    )


def get(conn: Connection, session_id: str) -> SessionRecord | None:
    row = conn.execute(sa.select(admin_sessions).where(admin_sessions.c.id == session_id)).first()
    if row is None:
        return None
    return SessionRecord(row.id, row.principal, row.csrf, row.created_at, row.expires_at)


def delete(conn: Connection, session_id: str) -> None:
    conn.execute(sa.delete(admin_sessions).where(admin_sessions.c.id == session_id))


def purge_expired(conn: Connection, now: datetime) -> None:
    conn.execute(sa.delete(admin_sessions).where(admin_sessions.c.expires_at <= now))
