"""One commit to Sift: a window's document tasks and the source's new position, together.

Everything happens in one write transaction of Sift's database: the tasks are enqueued
(with their NDJSON payloads), the rows that failed to convert are recorded, and the
source's record (position, snapshot cursors, counters) is saved with a compare-and-set.
A crash before the commit leaves the old position, so the changes are read again; a
crash after it leaves the tasks and the new position, so they are not read again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from sift.storage import indexes as index_rows
from sift.storage import sources as source_rows
from sift.storage import tasks as task_rows
from sift.storage.database import Database
from sift.storage.sources import SourceRecord
from sift.sync.changes import IndexChanges, Window
from sift.tasks.payload import ndjson_chunks


@dataclass
class PlannedTask:
    """A document task worked out before Sift's write lock is taken: its NDJSON payload
    is already written (in the snapshot reader's process, readahead.py), so enqueueing
    it is a few inserts."""

    kind: str
    details: dict[str, Any]
    params: dict[str, Any]
    chunks: list[bytes] = field(default_factory=list)


def plan_changes(changes: IndexChanges) -> list[PlannedTask]:
    """Up to three tasks for one index's changes; their keys never overlap."""
    planned = []
    if changes.cleared:
        planned.append(PlannedTask("documentDeletion", {"deletedDocuments": None},
                                   {"all": True}))  # fmt: skip
    whole = [d for k, d in changes.docs.items() if d is not None and k not in changes.partial]
    merged = [d for k, d in changes.docs.items() if d is not None and k in changes.partial]
    for method, docs in (("replace", whole), ("update", merged)):
        if docs:
            params = {"method": method, "primaryKey": changes.primary_key}
            details = {"receivedDocuments": len(docs), "indexedDocuments": None}
            chunks = [chunk for chunk, _ in ndjson_chunks(iter(docs))]
            planned.append(PlannedTask("documentAdditionOrUpdate", details, params, chunks))
    deleted = [k for k, d in changes.docs.items() if d is None]
    if deleted:
        planned.append(PlannedTask("documentDeletion",
                                   {"providedIds": len(deleted), "deletedDocuments": None},
                                   {"ids": deleted}))  # fmt: skip
    return planned


def enqueue_planned(db: Database, conn: Connection, index: str, planned: list[PlannedTask],
                    label: str) -> list[int]:  # fmt: skip
    """Enqueue the tasks; returns their uids."""
    uids = []
    for task in planned:
        params = {**task.params, "customMetadata": label}
        record = task_rows.enqueue(db, conn, task.kind, index, task.details, params)
        task_rows.add_payload(conn, record.uid, task.chunks)
        uids.append(record.uid)
    return uids


def ensure_indexes(db: Database, conn: Connection, wanted: dict[str, str], label: str) -> int:
    """Enqueue the creation of each missing index (uid -> primary key) before any document
    task, so that deleting from a table that was never indexed finds its index."""
    created = 0
    for uid, primary_key in wanted.items():
        if index_rows.get(conn, uid) is None:
            task_rows.enqueue(db, conn, "indexCreation", uid, {"primaryKey": primary_key},
                              {"primaryKey": primary_key, "customMetadata": label})  # fmt: skip
            created += 1
    return created


def commit(db: Database, record: SourceRecord | None, window: Window, label: str,
           top_up: Callable[[], None] = lambda: None) -> list[int]:  # fmt: skip
    """Enqueue the window's tasks and save `record` in one transaction; returns the tasks'
    uids. Raises StalePosition (and commits nothing) if another writer moved the source.
    Without a record (`sift sync --once`) only the tasks and row errors are written.

    `top_up` runs once the write lock is held, before anything is written: it may add to
    the window (and move the record's position with it). The lock can take a whole task
    batch to come (SQLite has one writer, and the worker holds it while it applies a
    batch); the changes that arrived meanwhile then join this commit, and so the worker's
    next batch, rather than wait for the commit after it."""
    with db.write() as conn:
        top_up()
        planned = {index: plan_changes(changes) for index, changes in window.indexes.items()}
        return _write(db, conn, record, planned, window.row_errors, label)


def commit_planned(db: Database, record: SourceRecord, planned: dict[str, list[PlannedTask]],
                   row_errors: list[source_rows.RowError], label: str) -> list[int]:  # fmt: skip
    """`commit` for tasks planned beforehand (a snapshot batch): the same one transaction
    with the record, so the batch's cursor moves exactly when its tasks exist."""
    with db.write() as conn:
        return _write(db, conn, record, planned, row_errors, label)


def _write(db: Database, conn: Connection, record: SourceRecord | None,
           planned: dict[str, list[PlannedTask]], row_errors: list[source_rows.RowError],
           label: str) -> list[int]:  # fmt: skip
    """Every planned task, the row errors and the record, in the caller's transaction."""
    tasks = [uid for index, p in planned.items()
             for uid in enqueue_planned(db, conn, index, p, label)]  # fmt: skip
    source_rows.add_row_errors(conn, row_errors)
    if record is not None:
        source_rows.save(conn, record)
    return tasks
