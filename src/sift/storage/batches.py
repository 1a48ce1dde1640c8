"""Batch traces: per-step durations recorded when a batch finishes."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sift.storage.schema import batch_traces, tasks


def record_trace(conn: Connection, batch_uid: int, trace: dict[str, str]) -> None:
    conn.execute(sa.delete(batch_traces).where(batch_traces.c.batch_uid == batch_uid))
    conn.execute(sa.insert(batch_traces).values(batch_uid=batch_uid,
                                                trace=orjson.dumps(trace).decode()))  # fmt: skip


def traces(conn: Connection, batch_uids: Sequence[int]) -> dict[int, dict[str, str]]:
    if not batch_uids:
        return {}
    rows = conn.execute(
        sa.select(batch_traces).where(batch_traces.c.batch_uid.in_(list(batch_uids)))
    )
    return {r.batch_uid: orjson.loads(r.trace) for r in rows}


def prune(conn: Connection) -> None:
    """Traces of batches whose tasks were all deleted go with them."""
    alive = sa.select(tasks.c.batch_uid).where(tasks.c.batch_uid.is_not(None)).distinct()
    conn.execute(sa.delete(batch_traces).where(batch_traces.c.batch_uid.not_in(alive)))
