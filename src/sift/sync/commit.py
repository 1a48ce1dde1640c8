"""One commit to Sift: a window's document tasks and the source's new position, together.

Everything happens in one write transaction of Sift's database: the tasks are enqueued
(with their NDJSON payloads), the rows that failed to convert are recorded, and the
source's record (position, snapshot cursors, counters) is saved with a compare-and-set.
A crash before the commit leaves the old position, so the changes are read again; a
crash after it leaves the tasks and the new position, so they are not read again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from sift.storage import indexes as index_rows
from sift.storage import sources as source_rows
from sift.storage import tasks as task_rows
from sift.storage.database import Database
from sift.storage.sources import SourceRecord
from sift.sync.changes import IndexChanges, Window
from sift.tasks.payload import ndjson_chunks


def _enqueue(db: Database, conn: Connection, kind: str, index: str, details: dict[str, Any],
             params: dict[str, Any], docs: list[dict[str, Any]] | None = None) -> None:  # fmt: skip
    task = task_rows.enqueue(db, conn, kind, index, details, params)
    for seq, (chunk, _) in enumerate(ndjson_chunks(iter(docs or ()))):
        task_rows.add_payload(conn, task.uid, [chunk], first_seq=seq)


def enqueue_changes(db: Database, conn: Connection, index: str, changes: IndexChanges,
                    label: str) -> int:  # fmt: skip
    """Up to three tasks for one index; returns the number of tasks."""
    meta = {"customMetadata": label}
    tasks = 0
    if changes.cleared:
        _enqueue(db, conn, "documentDeletion", index, {"deletedDocuments": None},
                 {"all": True, **meta})  # fmt: skip
        tasks += 1
    whole = [d for k, d in changes.docs.items() if d is not None and k not in changes.partial]
    merged = [d for k, d in changes.docs.items() if d is not None and k in changes.partial]
    for method, docs in (("replace", whole), ("update", merged)):
        if docs:
            params = {"method": method, "primaryKey": changes.primary_key, **meta}
            details = {"receivedDocuments": len(docs), "indexedDocuments": None}
            _enqueue(db, conn, "documentAdditionOrUpdate", index, details, params, docs)
            tasks += 1
    deleted = [k for k, d in changes.docs.items() if d is None]
    if deleted:
        _enqueue(db, conn, "documentDeletion", index,
                 {"providedIds": len(deleted), "deletedDocuments": None},
                 {"ids": deleted, **meta})  # fmt: skip
        tasks += 1
    return tasks


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
           top_up: Callable[[], None] = lambda: None) -> int:  # fmt: skip
    """Enqueue the window's tasks and save `record` in one transaction; returns the number
    of tasks. Raises StalePosition (and commits nothing) if another writer moved the source.
    Without a record (`sift sync --once`) only the tasks and row errors are written.

    `top_up` runs once the write lock is held, before anything is written: it may add to
    the window (and move the record's position with it). The lock can take a whole task
    batch to come (SQLite has one writer, and the worker holds it while it applies a
    batch); the changes that arrived meanwhile then join this commit, and so the worker's
    next batch, rather than wait for the commit after it."""
    with db.write() as conn:
        top_up()
        tasks = sum(
            enqueue_changes(db, conn, index, changes, label)
            for index, changes in window.indexes.items()
        )
        source_rows.add_row_errors(conn, window.row_errors)
        if record is not None:
            source_rows.save(conn, record)
    return tasks
