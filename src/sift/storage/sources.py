"""Sync source rows: each source's stored position and the rows it could not convert.

A position is saved with a compare-and-set on `version`: the writer names the version it
read, so two nodes that both believe they hold the worker lease cannot both advance one
source (the second one's transaction changes nothing and is rolled back by the caller).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sift.storage.database import utcnow
from sift.storage.schema import sync_row_errors, sync_sources

KEEP_ROW_ERRORS = 100  # per source: the newest ones are what an operator needs


@dataclass
class SourceRecord:
    name: str
    phase: str  # "new", "snapshot", "streaming", "failed"
    position: dict[str, Any] = field(default_factory=dict)
    snapshot: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    version: int = 0
    updated_at: datetime | None = None


@dataclass(frozen=True)
class RowError:
    source: str
    table: str
    key: str | None
    message: str
    at: datetime


class StalePosition(Exception):
    """Another writer advanced this source since it was read."""


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def get(conn: Connection, name: str) -> SourceRecord | None:
    row = conn.execute(sa.select(sync_sources).where(sync_sources.c.name == name)).first()
    if row is None:
        return None
    return SourceRecord(
        row.name,
        row.phase,
        orjson.loads(row.position),
        orjson.loads(row.snapshot),
        orjson.loads(row.stats),
        row.error,
        row.version,
        row.updated_at,
    )


def all_records(conn: Connection) -> dict[str, SourceRecord]:
    names = conn.execute(sa.select(sync_sources.c.name)).scalars().all()
    return {n: r for n in names if (r := get(conn, n)) is not None}


def save(conn: Connection, record: SourceRecord) -> None:
    """Write `record` if nobody changed it since it was read; bumps its version."""
    values = {
        "phase": record.phase,
        "position": _dumps(record.position),
        "snapshot": _dumps(record.snapshot),
        "stats": _dumps(record.stats),
        "error": record.error,
        "version": record.version + 1,
        "updated_at": utcnow(),
    }
    if record.version == 0:
        exists = conn.execute(
            sa.select(sync_sources.c.version).where(sync_sources.c.name == record.name)
        ).first()
        if exists is not None:
            raise StalePosition(record.name)
        conn.execute(sa.insert(sync_sources).values(name=record.name, **values))
    else:
        done = conn.execute(
            sa.update(sync_sources)
            .where(sync_sources.c.name == record.name, sync_sources.c.version == record.version)
            .values(**values)
        ).rowcount
        if done != 1:
            raise StalePosition(record.name)
    record.version += 1


def delete(conn: Connection, name: str) -> None:
    conn.execute(sa.delete(sync_sources).where(sync_sources.c.name == name))
    conn.execute(sa.delete(sync_row_errors).where(sync_row_errors.c.source == name))


def add_row_errors(conn: Connection, errors: list[RowError]) -> None:
    if not errors:
        return
    conn.execute(
        sa.insert(sync_row_errors),
        [
            {"source": e.source, "source_table": e.table, "row_key": e.key,
             "message": e.message[:2000], "at": e.at}
            for e in errors
        ],
    )  # fmt: skip
    for source in {e.source for e in errors}:
        newest = (
            sa.select(sync_row_errors.c.id)
            .where(sync_row_errors.c.source == source)
            .order_by(sync_row_errors.c.id.desc())
            .limit(KEEP_ROW_ERRORS)
            .subquery()
        )
        floor = conn.execute(sa.select(sa.func.min(newest.c.id))).scalar()
        if floor is not None:
            conn.execute(
                sa.delete(sync_row_errors).where(
                    sync_row_errors.c.source == source, sync_row_errors.c.id < floor
                )
            )


def row_errors(conn: Connection, source: str, limit: int = 20) -> list[RowError]:
    rows = conn.execute(
        sa.select(sync_row_errors)
        .where(sync_row_errors.c.source == source)
        .order_by(sync_row_errors.c.id.desc())
        .limit(limit)
    ).all()
    return [RowError(r.source, r.source_table, r.row_key, r.message, r.at) for r in rows]


def count_row_errors(conn: Connection, source: str) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count()).where(sync_row_errors.c.source == source)
        ).scalar_one()
    )
