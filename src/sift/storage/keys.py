"""API key rows. Keys themselves are derived from uid + master key, never stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sift.storage.schema import api_keys, meta


@dataclass(frozen=True)
class KeyRecord:
    uid: str
    name: str | None
    description: str | None
    actions: list[str]
    indexes: list[str]
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


def _record(row: sa.Row) -> KeyRecord:
    return KeyRecord(
        uid=row.uid,
        name=row.name,
        description=row.description,
        actions=orjson.loads(row.actions),
        indexes=orjson.loads(row.indexes),
        expires_at=row.expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def insert(conn: Connection, record: KeyRecord) -> None:
    conn.execute(
        sa.insert(api_keys).values(
            uid=record.uid,
            name=record.name,
            description=record.description,
            actions=orjson.dumps(record.actions).decode(),
            indexes=orjson.dumps(record.indexes).decode(),
            expires_at=record.expires_at,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )
    )


def get(conn: Connection, uid: str) -> KeyRecord | None:
    row = conn.execute(sa.select(api_keys).where(api_keys.c.uid == uid)).first()
    return _record(row) if row else None


def all_records(conn: Connection) -> list[KeyRecord]:
    rows = conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at.desc(), api_keys.c.uid))
    return [_record(r) for r in rows]


def update(conn: Connection, uid: str, **values: Any) -> None:
    conn.execute(sa.update(api_keys).where(api_keys.c.uid == uid).values(**values))


def delete(conn: Connection, uid: str) -> bool:
    return conn.execute(sa.delete(api_keys).where(api_keys.c.uid == uid)).rowcount > 0


def get_meta(conn: Connection, key: str) -> str | None:
    return conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar()


def all_meta(conn: Connection) -> dict[str, str]:
    return {r.key: r.value for r in conn.execute(sa.select(meta).order_by(meta.c.key))}


def set_meta(conn: Connection, key: str, value: str) -> None:
    if get_meta(conn, key) is None:
        conn.execute(sa.insert(meta).values(key=key, value=value))
    else:
        conn.execute(sa.update(meta).where(meta.c.key == key).values(value=value))


def delete_meta(conn: Connection, key: str) -> bool:
    return conn.execute(sa.delete(meta).where(meta.c.key == key)).rowcount > 0
