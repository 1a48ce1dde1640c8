"""The network_outbox rows: forwarded writes not yet answered by their remote."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sift.storage.database import utcnow
from sift.storage.schema import network_outbox as outbox


@dataclass(frozen=True)
class Pending:
    id: int
    remote: str
    task_uid: int  # negative: a /network change, numbered by its version (no task)
    method: str
    path: str
    body: Any
    attempts: int
    due_at: datetime
    network_version: str | None  # the network's version the write was routed under


def _pending(r: Any) -> Pending:
    return Pending(r.id, r.remote, r.task_uid, r.method, r.path, orjson.loads(r.body),
                   r.attempts, r.due_at, r.network_version)  # fmt: skip


def add(conn: Connection, task_uid: int, requests: dict[str, tuple[str, str, Any]],
        network_version: str | None) -> None:  # fmt: skip
    """Owe each remote its request (method, path, JSON body) of task ``task_uid``, routed
    under the network's version ``network_version``."""
    now = utcnow()
    rows = [
        {"remote": remote, "task_uid": task_uid, "method": method, "path": path,
         "body": orjson.dumps(body).decode(), "attempts": 0, "due_at": now,
         "network_version": network_version}
        for remote, (method, path, body) in requests.items()
    ]  # fmt: skip
    if rows:
        conn.execute(sa.insert(outbox), rows)


def heads(conn: Connection) -> list[Pending]:
    """Each remote's earliest pending write (the only one that may be sent: a remote
    gets its writes in the leader's order)."""
    first = sa.select(sa.func.min(outbox.c.id)).group_by(outbox.c.remote)
    rows = conn.execute(sa.select(outbox).where(outbox.c.id.in_(first)).order_by(outbox.c.id))
    return [_pending(r) for r in rows]


def all_rows(conn: Connection) -> list[Pending]:
    """Every pending write, in the order owed."""
    return [_pending(r) for r in conn.execute(sa.select(outbox).order_by(outbox.c.id))]


def done(conn: Connection, row_id: int) -> None:
    conn.execute(sa.delete(outbox).where(outbox.c.id == row_id))


def postpone(conn: Connection, row_id: int, attempts: int, due_at: datetime) -> None:
    conn.execute(
        sa.update(outbox).where(outbox.c.id == row_id).values(attempts=attempts, due_at=due_at)
    )


def counts(conn: Connection) -> dict[str, int]:
    """How many writes each remote is owed."""
    query = sa.select(outbox.c.remote, sa.func.count()).group_by(outbox.c.remote)
    return {remote: int(n) for remote, n in conn.execute(query)}
