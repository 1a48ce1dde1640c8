"""Index metadata rows: uid, primary key, settings, timestamps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sift.inputs import SQL_BIGINT
from sift.storage.database import utcnow
from sift.storage.schema import documents, indexes


@dataclass(frozen=True)
class IndexRecord:
    id: int
    uid: str
    primary_key: str | None
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime


def _record(row: sa.Row) -> IndexRecord:
    return IndexRecord(
        id=row.id,
        uid=row.uid,
        primary_key=row.primary_key,
        settings=orjson.loads(row.settings),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def get(conn: Connection, uid: str) -> IndexRecord | None:
    row = conn.execute(sa.select(indexes).where(indexes.c.uid == uid)).first()
    return _record(row) if row else None


def list_page(conn: Connection, offset: int, limit: int) -> tuple[list[IndexRecord], int]:
    total = conn.execute(sa.select(sa.func.count()).select_from(indexes)).scalar_one()
    rows = conn.execute(
        sa.select(indexes)
        .order_by(indexes.c.uid)
        .offset(min(offset, SQL_BIGINT))  # a usize page past SQL's integers is past the end
        .limit(min(limit, SQL_BIGINT))
    ).all()
    return [_record(r) for r in rows], total


def all_records(conn: Connection) -> list[IndexRecord]:
    return [_record(r) for r in conn.execute(sa.select(indexes).order_by(indexes.c.uid))]


def create(
    conn: Connection,
    uid: str,
    primary_key: str | None,
    settings: dict[str, Any],
    at: datetime | None = None,
) -> IndexRecord:
    now = at or utcnow()
    conn.execute(
        sa.insert(indexes).values(
            uid=uid,
            primary_key=primary_key,
            settings=orjson.dumps(settings).decode(),
            created_at=now,
            updated_at=now,
        )
    )
    record = get(conn, uid)
    assert record is not None
    return record


def update(conn: Connection, uid: str, **values: Any) -> None:
    if "settings" in values:
        values["settings"] = orjson.dumps(values["settings"]).decode()
    values["updated_at"] = utcnow()
    conn.execute(sa.update(indexes).where(indexes.c.uid == uid).values(**values))


def touch(conn: Connection, uid: str) -> None:
    conn.execute(sa.update(indexes).where(indexes.c.uid == uid).values(updated_at=utcnow()))


def delete(conn: Connection, record: IndexRecord) -> int:
    """Delete an index and its documents; returns how many documents went."""
    deleted = conn.execute(sa.delete(documents).where(documents.c.index_id == record.id)).rowcount
    conn.execute(sa.delete(indexes).where(indexes.c.id == record.id))
    return deleted


def swap(conn: Connection, first: str, second: str) -> None:
    """Exchange two indexes' contents by exchanging their uids (unique, so via a temp uid)."""
    a, b = get(conn, first), get(conn, second)
    assert a is not None and b is not None
    now = utcnow()
    conn.execute(sa.update(indexes).where(indexes.c.id == a.id).values(uid=f"~swap-{a.id}"))
    conn.execute(sa.update(indexes).where(indexes.c.id == b.id).values(uid=first, updated_at=now))
    conn.execute(sa.update(indexes).where(indexes.c.id == a.id).values(uid=second, updated_at=now))


def rename(conn: Connection, old: str, new: str) -> None:
    conn.execute(
        sa.update(indexes).where(indexes.c.uid == old).values(uid=new, updated_at=utcnow())
    )
