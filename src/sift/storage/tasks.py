"""Task rows and their payloads: the durable queue.

A task row and its payload chunks are written in the same transaction, so a
task the API acknowledged always has its whole payload.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sift.storage.database import Database, utcnow
from sift.storage.schema import task_payloads, tasks

FINISHED = ("succeeded", "failed", "canceled")


@dataclass
class TaskRecord:
    uid: int
    index_uid: str | None
    type: str
    status: str
    details: dict[str, Any] | None
    error: dict[str, Any] | None
    canceled_by: int | None
    params: dict[str, Any]
    enqueued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    batch_uid: int | None


@dataclass
class TaskFilter:
    """What GET /tasks, task cancelation and task deletion select on."""

    uids: list[int] | None = None
    batch_uids: list[int] | None = None
    statuses: list[str] | None = None
    types: list[str] | None = None
    index_uids: list[str] | None = None
    canceled_by: list[int] | None = None
    dates: dict[str, datetime] = field(default_factory=dict)  # e.g. {"beforeEnqueuedAt": dt}

    def where(self) -> list[sa.ColumnElement[bool]]:
        c = tasks.c
        clauses: list[sa.ColumnElement[bool]] = []
        if self.uids is not None:
            clauses.append(c.uid.in_(self.uids))
        if self.batch_uids is not None:
            clauses.append(c.batch_uid.in_(self.batch_uids))
        if self.statuses is not None:
            clauses.append(c.status.in_(self.statuses))
        if self.types is not None:
            clauses.append(c.type.in_(self.types))
        if self.index_uids is not None:
            clauses.append(c.index_uid.in_(self.index_uids))
        if self.canceled_by is not None:
            clauses.append(c.canceled_by.in_(self.canceled_by))
        columns = {"Enqueued": c.enqueued_at, "Started": c.started_at, "Finished": c.finished_at}
        for key, when in self.dates.items():
            column = columns[key.removeprefix("before").removeprefix("after").removesuffix("At")]
            clauses.append(column < when if key.startswith("before") else column > when)
        return clauses


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _record(row: sa.Row) -> TaskRecord:
    return TaskRecord(
        uid=row.uid,
        index_uid=row.index_uid,
        type=row.type,
        status=row.status,
        details=orjson.loads(row.details) if row.details else None,
        error=orjson.loads(row.error) if row.error else None,
        canceled_by=row.canceled_by,
        params=orjson.loads(row.params) if row.params else {},
        enqueued_at=row.enqueued_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        batch_uid=row.batch_uid,
    )


def enqueue(
    db: Database,
    conn: Connection,
    type: str,
    index_uid: str | None,
    details: dict[str, Any] | None,
    params: dict[str, Any] | None = None,
) -> TaskRecord:
    db.lock_enqueue(conn)
    result = conn.execute(
        sa.insert(tasks).values(
            type=type,
            index_uid=index_uid,
            status="enqueued",
            details=_json(details),
            params=_json(params or {}),
            enqueued_at=utcnow(),
        )
    )
    uid = result.inserted_primary_key[0]
    record = get(conn, uid)
    assert record is not None
    return record


def add_payload(
    conn: Connection, task_uid: int, chunks: Sequence[bytes], first_seq: int = 0
) -> None:
    if chunks:
        conn.execute(
            sa.insert(task_payloads),
            [{"task_uid": task_uid, "seq": first_seq + i, "data": c} for i, c in enumerate(chunks)],
        )


def next_payload_chunk(conn: Connection, task_uid: int, after_seq: int) -> Any:
    """The task's payload chunk following ``after_seq`` (a row with ``seq`` and
    ``data``), or None after the last one."""
    return conn.execute(
        sa.select(task_payloads.c.seq, task_payloads.c.data)
        .where(task_payloads.c.task_uid == task_uid, task_payloads.c.seq > after_seq)
        .order_by(task_payloads.c.seq)
        .limit(1)
    ).first()


def iter_payload(conn: Connection, task_uid: int) -> Iterator[bytes]:
    """Payload chunks in order, one row at a time (constant memory)."""
    seq = -1
    while (row := next_payload_chunk(conn, task_uid, seq)) is not None:
        seq = row.seq
        yield row.data


def delete_payloads(conn: Connection, task_uids: Sequence[int]) -> None:
    if task_uids:
        conn.execute(sa.delete(task_payloads).where(task_payloads.c.task_uid.in_(task_uids)))


def set_details(conn: Connection, uid: int, details: dict[str, Any] | None) -> None:
    conn.execute(sa.update(tasks).where(tasks.c.uid == uid).values(details=_json(details)))


def get(conn: Connection, uid: int) -> TaskRecord | None:
    row = conn.execute(sa.select(tasks).where(tasks.c.uid == uid)).first()
    return _record(row) if row else None


def query(
    conn: Connection, flt: TaskFilter, limit: int, from_uid: int | None, reverse: bool = False
) -> tuple[list[TaskRecord], int, int | None]:
    """A page of matching tasks (newest first unless reverse) + total + next `from`."""
    where = flt.where()
    total = conn.execute(sa.select(sa.func.count()).select_from(tasks).where(*where)).scalar_one()
    stmt = sa.select(tasks).where(*where)
    if from_uid is not None:
        stmt = stmt.where(tasks.c.uid >= from_uid if reverse else tasks.c.uid <= from_uid)
    order = tasks.c.uid.asc() if reverse else tasks.c.uid.desc()
    rows = conn.execute(stmt.order_by(order).limit(limit + 1)).all()
    next_uid = rows[limit].uid if len(rows) > limit else None
    return [_record(r) for r in rows[:limit]], total, next_uid


def matching_uids(conn: Connection, flt: TaskFilter) -> list[int]:
    return list(
        conn.execute(sa.select(tasks.c.uid).where(*flt.where()).order_by(tasks.c.uid)).scalars()
    )


def next_enqueued(conn: Connection, limit: int) -> list[TaskRecord]:
    rows = conn.execute(
        sa.select(tasks).where(tasks.c.status == "enqueued").order_by(tasks.c.uid).limit(limit)
    ).all()
    return [_record(r) for r in rows]


def has_enqueued(conn: Connection) -> bool:
    return (
        conn.execute(sa.select(tasks.c.uid).where(tasks.c.status == "enqueued").limit(1)).first()
        is not None
    )


def mark_processing(conn: Connection, uids: Sequence[int], batch_uid: int, at: datetime) -> None:
    conn.execute(
        sa.update(tasks)
        .where(tasks.c.uid.in_(uids))
        .values(status="processing", started_at=at, batch_uid=batch_uid)
    )


def finish(
    conn: Connection,
    uid: int,
    status: str,
    details: dict[str, Any] | None,
    error: dict[str, Any] | None,
    at: datetime,
    canceled_by: int | None = None,
) -> None:
    conn.execute(
        sa.update(tasks)
        .where(tasks.c.uid == uid)
        .values(
            status=status,
            details=_json(details),
            error=_json(error),
            finished_at=at,
            canceled_by=canceled_by,
        )
    )


def cancel(conn: Connection, uids: Sequence[int], by: int, at: datetime) -> int:
    if not uids:
        return 0
    return conn.execute(
        sa.update(tasks)
        .where(tasks.c.uid.in_(uids), tasks.c.status.in_(("enqueued", "processing")))
        .values(status="canceled", canceled_by=by, finished_at=at)
    ).rowcount


def delete(conn: Connection, uids: Sequence[int]) -> int:
    deleted = 0
    for start in range(0, len(uids), 5000):
        chunk = uids[start : start + 5000]
        conn.execute(sa.delete(task_payloads).where(task_payloads.c.task_uid.in_(chunk)))
        deleted += conn.execute(
            sa.delete(tasks).where(tasks.c.uid.in_(chunk), tasks.c.status.in_(FINISHED))
        ).rowcount
    return deleted


def requeue_interrupted(conn: Connection) -> int:
    """Tasks left `processing` by a crash run again from the start."""
    return conn.execute(
        sa.update(tasks)
        .where(tasks.c.status == "processing")
        .values(status="enqueued", started_at=None, batch_uid=None)
    ).rowcount


def rename_index(conn: Connection, old: str, new: str) -> None:
    conn.execute(sa.update(tasks).where(tasks.c.index_uid == old).values(index_uid=new))


def last_finished_batch(conn: Connection) -> int:
    """The highest batch uid whose tasks are finished (-1: none yet)."""
    latest = conn.execute(
        sa.select(sa.func.max(tasks.c.batch_uid)).where(tasks.c.status.in_(FINISHED))
    ).scalar()
    return -1 if latest is None else int(latest)


def finished_in_batches_after(conn: Connection, batch_uid: int) -> list[TaskRecord]:
    """Finished tasks of the batches after ``batch_uid``. Batch uids are handed out under
    the worker lease, and a batch's outcome commits before the next batch starts (or never,
    its tasks then run again in a later one), so batches finish in uid order, whichever
    node ran them and whatever the nodes' clocks say."""
    rows = conn.execute(
        sa.select(tasks)
        .where(tasks.c.batch_uid > batch_uid, tasks.c.status.in_(FINISHED))
        .order_by(tasks.c.batch_uid, tasks.c.uid)
    ).all()
    return [_record(r) for r in rows]


def query_batches(
    conn: Connection, flt: TaskFilter, limit: int, from_uid: int | None, reverse: bool = False
) -> tuple[list[tuple[int, list[TaskRecord]]], int, int | None]:
    """A page of batches holding a matching task (newest first unless reverse), each with
    all its tasks, + total + next `from`. Batches are not stored: a batch is the tasks the
    worker ran together, which share a `batch_uid`."""
    matching = sa.select(tasks.c.batch_uid).where(*flt.where(), tasks.c.batch_uid.is_not(None))
    total = conn.execute(
        sa.select(sa.func.count(sa.distinct(tasks.c.batch_uid))).where(
            *flt.where(), tasks.c.batch_uid.is_not(None)
        )
    ).scalar_one()
    if from_uid is not None:
        matching = matching.where(
            tasks.c.batch_uid >= from_uid if reverse else tasks.c.batch_uid <= from_uid
        )
    order = tasks.c.batch_uid.asc() if reverse else tasks.c.batch_uid.desc()
    uids = list(conn.execute(matching.distinct().order_by(order).limit(limit + 1)).scalars())
    next_uid = uids[limit] if len(uids) > limit else None
    page = uids[:limit]
    members: dict[int, list[TaskRecord]] = {uid: [] for uid in page}
    if page:
        rows = conn.execute(
            sa.select(tasks).where(tasks.c.batch_uid.in_(page)).order_by(tasks.c.uid)
        ).all()
        for row in rows:
            members[row.batch_uid].append(_record(row))
    return [(uid, members[uid]) for uid in page], int(total), next_uid


def status_counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(sa.select(tasks.c.status, sa.func.count()).group_by(tasks.c.status))
    return {r[0]: r[1] for r in rows}
