"""Search events: batched inserts, purging, and the reads behind the analytics API.

Grouping by time is done by the caller in Python, because truncating timestamps
is spelled differently in SQLite and PostgreSQL; counting by query is plain SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sift.storage.schema import search_events


@dataclass(frozen=True)
class SearchEvent:
    ts: datetime
    index_uid: str
    query: str
    hits: int
    processing_ms: int


@dataclass(frozen=True)
class Range:
    """Rows with start <= ts < end, on the given indexes (None: every index)."""

    start: datetime
    end: datetime
    indexes: Sequence[str] | None = None

    def where(self) -> sa.ColumnElement[bool]:
        clause = sa.and_(search_events.c.ts >= self.start, search_events.c.ts < self.end)
        if self.indexes is not None:
            clause = sa.and_(clause, search_events.c.index_uid.in_(list(self.indexes)))
        return clause


def insert_many(conn: Connection, events: Sequence[SearchEvent]) -> None:
    if not events:
        return
    conn.execute(
        sa.insert(search_events),
        [
            {
                "ts": e.ts,
                "index_uid": e.index_uid,
                "query": e.query,
                "hits": e.hits,
                "processing_ms": e.processing_ms,
            }
            for e in events
        ],
    )


def purge_before(conn: Connection, cutoff: datetime) -> int:
    return conn.execute(sa.delete(search_events).where(search_events.c.ts < cutoff)).rowcount


def times_and_hits(conn: Connection, span: Range) -> list[tuple[datetime, int, int]]:
    """(ts, hits, processing_ms) of every search in the range, oldest first."""
    stmt = (
        sa.select(search_events.c.ts, search_events.c.hits, search_events.c.processing_ms)
        .where(span.where())
        .order_by(search_events.c.ts)
    )
    return [(row.ts, row.hits, row.processing_ms) for row in conn.execute(stmt)]


def top_queries(
    conn: Connection, span: Range, limit: int, zero_only: bool = False
) -> list[tuple[str, int, float]]:
    """(query, searches, average hits), most frequent first."""
    count = sa.func.count().label("n")
    clause = span.where()
    if zero_only:
        clause = sa.and_(clause, search_events.c.hits == 0)
    stmt = (
        sa.select(search_events.c.query, count, sa.func.avg(search_events.c.hits).label("avg"))
        .where(clause)
        .group_by(search_events.c.query)
        .order_by(count.desc(), search_events.c.query)
        .limit(limit)
    )
    return [(row.query, int(row.n), float(row.avg or 0)) for row in conn.execute(stmt)]
