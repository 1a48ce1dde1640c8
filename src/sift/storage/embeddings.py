"""The embedding cache table: (index, embedder, content hash) -> float32 vector bytes."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sift.storage.database import Database
from sift.storage.schema import embeddings

# Bound parameters per IN (...) list: under SQLite's and psycopg's limits on both databases.
CHUNK = 500


def get_many(
    conn: Connection, index_id: int, embedder: str, hashes: Iterable[str]
) -> dict[str, np.ndarray]:
    wanted = list(dict.fromkeys(hashes))
    out: dict[str, np.ndarray] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = conn.execute(
            sa.select(embeddings.c.content_hash, embeddings.c.vector).where(
                embeddings.c.index_id == index_id,
                embeddings.c.embedder == embedder,
                embeddings.c.content_hash.in_(wanted[start : start + CHUNK]),
            )
        )
        for content_hash, blob in rows:
            out[content_hash] = np.frombuffer(blob, dtype="<f4")
    return out


def put_many(
    db: Database, conn: Connection, index_id: int, embedder: str, items: dict[str, np.ndarray]
) -> None:
    """Cache vectors; a row already there is kept (insert-or-ignore). A content hash
    names one text for one embedder configuration, so both rows hold the same vector and
    concurrent or repeated writers (a rerun task, a follower's rebuild) never conflict."""
    if not items:
        return
    rows = [
        {
            "index_id": index_id,
            "embedder": embedder,
            "content_hash": content_hash,
            "vector": np.asarray(vector, dtype="<f4").tobytes(),
        }
        for content_hash, vector in items.items()
    ]
    if db.is_sqlite:
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    stmt = insert(embeddings).on_conflict_do_nothing(
        index_elements=["index_id", "embedder", "content_hash"]
    )
    conn.execute(stmt, rows)


def count(conn: Connection, index_id: int, embedder: str | None = None) -> int:
    query = (
        sa.select(sa.func.count()).select_from(embeddings).where(embeddings.c.index_id == index_id)
    )
    if embedder is not None:
        query = query.where(embeddings.c.embedder == embedder)
    return int(conn.execute(query).scalar_one())


def drop_embedder(conn: Connection, index_id: int, embedder: str) -> int:
    result = conn.execute(
        sa.delete(embeddings).where(
            embeddings.c.index_id == index_id, embeddings.c.embedder == embedder
        )
    )
    return int(result.rowcount or 0)
