"""Webhook rows: the URLs (and headers) finished tasks are POSTed to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sift.storage.schema import webhooks


@dataclass(frozen=True)
class WebhookRecord:
    uuid: str
    url: str
    headers: dict[str, str]
    created_at: datetime


def _record(row: sa.Row) -> WebhookRecord:
    return WebhookRecord(row.uuid, row.url, orjson.loads(row.headers), row.created_at)


def insert(conn: Connection, record: WebhookRecord) -> None:
    conn.execute(
        sa.insert(webhooks).values(
            uuid=record.uuid,
            url=record.url,
            headers=orjson.dumps(record.headers).decode(),
            created_at=record.created_at,
        )
    )


def get(conn: Connection, uuid: str) -> WebhookRecord | None:
    row = conn.execute(sa.select(webhooks).where(webhooks.c.uuid == uuid)).first()
    return _record(row) if row else None


def all_records(conn: Connection) -> list[WebhookRecord]:
    rows = conn.execute(sa.select(webhooks).order_by(webhooks.c.created_at, webhooks.c.uuid))
    return [_record(r) for r in rows]


def count(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(webhooks)).scalar_one())


def update(conn: Connection, uuid: str, url: str, headers: dict[str, str]) -> None:
    conn.execute(
        sa.update(webhooks)
        .where(webhooks.c.uuid == uuid)
        .values(url=url, headers=orjson.dumps(headers).decode())
    )


def delete(conn: Connection, uuid: str) -> bool:
    return conn.execute(sa.delete(webhooks).where(webhooks.c.uuid == uuid)).rowcount > 0
