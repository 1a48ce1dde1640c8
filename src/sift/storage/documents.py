"""Document rows: one JSON body per (index, document id), in insertion order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sift.inputs import SQL_BIGINT
from sift.storage.database import Database
from sift.storage.schema import documents

# Keeps every IN (...) list under SQLite's bound-parameter limit.
ID_CHUNK = 5000
# Rows per upsert statement: 800 bound parameters, under SQLite's historical limit of
# 999 (3.32 raised it); larger statements measured no faster.
UPSERT_ROWS = 400


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), ID_CHUNK):
        yield ids[start : start + ID_CHUNK]


def upsert(
    db: Database, conn: Connection, index_id: int, rows: Sequence[tuple[str, bytes]]
) -> None:
    """Insert or replace bodies; a replaced document keeps its place in the order.

    This is the hottest write of an import, so it skips SQLAlchemy's per-row parameter
    processing and hands the driver statements of UPSERT_ROWS rows each (a multi-row
    VALUES): one execution per statement instead of one per row took SQLite's CPU time
    for 200k rows from 0.9-1.2 s to 0.4-0.7 s, and the driver holds the GIL only to bind
    each statement's parameters, not around every row (the task worker writes while it
    indexes, tasks/documents.py). A repeated id is written once, with its last body at
    its first place, as one-row upserts in turn would leave it (PostgreSQL refuses an
    ON CONFLICT that updates a row twice in one statement). Both databases accept the
    same statement; only the placeholder style differs.
    """
    if not rows:
        return
    latest = dict(rows)
    mark = "?" if db.is_sqlite else "%s"
    index = int(index_id)  # a literal: one parameter fewer per row
    items = list(latest.items())
    for start in range(0, len(items), UPSERT_ROWS):
        part = items[start : start + UPSERT_ROWS]
        values = ",".join([f"({index},{mark},{mark})"] * len(part))
        conn.exec_driver_sql(
            f"INSERT INTO documents (index_id, doc_id, body) VALUES {values} "
            "ON CONFLICT (index_id, doc_id) DO UPDATE SET body = excluded.body",
            tuple(value for row in part for value in row),
        )


def get(conn: Connection, index_id: int, doc_id: str) -> bytes | None:
    return conn.execute(
        sa.select(documents.c.body).where(
            documents.c.index_id == index_id, documents.c.doc_id == doc_id
        )
    ).scalar()


def get_many(conn: Connection, index_id: int, doc_ids: Sequence[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for chunk in _chunks(doc_ids):
        rows = conn.execute(
            sa.select(documents.c.doc_id, documents.c.body).where(
                documents.c.index_id == index_id, documents.c.doc_id.in_(chunk)
            )
        )
        found.update({r.doc_id: r.body for r in rows})
    return found


def count(conn: Connection, index_id: int) -> int:
    return conn.execute(
        sa.select(sa.func.count()).select_from(documents).where(documents.c.index_id == index_id)
    ).scalar_one()


def sizes(conn: Connection, index_id: int) -> tuple[int, int, int]:
    """(document count, total body bytes, largest body bytes) of an index."""
    length = sa.func.length(documents.c.body)
    row = conn.execute(
        sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.sum(length), 0), sa.func.max(length)
        ).where(documents.c.index_id == index_id)
    ).one()
    return int(row[0]), int(row[1] or 0), int(row[2] or 0)


def list_page(conn: Connection, index_id: int, offset: int, limit: int) -> list[bytes]:
    rows = conn.execute(
        sa.select(documents.c.body)
        .where(documents.c.index_id == index_id)
        .order_by(documents.c.id)
        .offset(min(offset, SQL_BIGINT))  # a usize page past SQL's integers is past the end
        .limit(min(limit, SQL_BIGINT))
    )
    return [r.body for r in rows]


def list_ids_ordered(conn: Connection, index_id: int, doc_ids: Iterable[str]) -> list[str]:
    """The given ids that exist, in document order (for filtered listings)."""
    wanted = list(doc_ids)
    order: list[tuple[int, str]] = []
    for chunk in _chunks(wanted):
        rows = conn.execute(
            sa.select(documents.c.id, documents.c.doc_id).where(
                documents.c.index_id == index_id, documents.c.doc_id.in_(chunk)
            )
        )
        order.extend((r.id, r.doc_id) for r in rows)
    order.sort()
    return [d for _, d in order]


def iter_all(
    conn: Connection, index_id: int, batch: int = 5000
) -> Iterator[list[tuple[str, bytes]]]:
    """Every document of an index in batches, in row order: one query whose rows are
    streamed ``batch`` at a time (constant memory). Keyset paging (``id > last ORDER BY
    id LIMIT batch``, one query per page) made SQLite walk the (index_id, doc_id) index
    and sort every row of the index again for each page: 22 s of CPU to read a million
    documents, against 1.2 s for the one query."""
    result = conn.execute(
        sa.select(documents.c.doc_id, documents.c.body)
        .where(documents.c.index_id == index_id)
        .order_by(documents.c.id)
        .execution_options(yield_per=batch)
    )
    for rows in result.partitions():
        yield [(doc_id, body) for doc_id, body in rows]


def delete_ids(conn: Connection, index_id: int, doc_ids: Sequence[str]) -> int:
    deleted = 0
    for chunk in _chunks(doc_ids):
        deleted += conn.execute(
            sa.delete(documents).where(
                documents.c.index_id == index_id, documents.c.doc_id.in_(chunk)
            )
        ).rowcount
    return deleted


def clear(conn: Connection, index_id: int) -> int:
    return conn.execute(sa.delete(documents).where(documents.c.index_id == index_id)).rowcount


def all_ids(conn: Connection, index_id: int) -> list[str]:
    """Every document id of an index (what `sift sync --once` compares a table with)."""
    return list(
        conn.execute(sa.select(documents.c.doc_id).where(documents.c.index_id == index_id))
        .scalars()
        .all()
    )
