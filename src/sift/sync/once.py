"""`sift sync --once`: make each index equal its table now, without change capture.

For batch users (a nightly cron, a source without binlog or replication rights): every
table is read in primary-key order and indexed, then the documents whose rows are gone
are deleted. Nothing is stored about the source, so it can run any number of times.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sift.storage import documents as doc_rows
from sift.storage import indexes as index_rows
from sift.storage.database import Database
from sift.sync.changes import RowChange, Window
from sift.sync.commit import commit, ensure_indexes
from sift.sync.config import SourceConfig
from sift.sync.convert import Converter
from sift.sync.runner import open_reader

Progress = Callable[[str, str, int, int], None]  # source, table, rows done, rows in all


def mirror(db: Database, config: SourceConfig, progress: Progress) -> dict[str, Any]:
    """Snapshot every table of one source into its index; returns counts per table."""
    label = f"sync:{config.name} once"
    reader = open_reader(config)
    counts: dict[str, Any] = {}
    try:
        with db.write() as conn:
            ensure_indexes(db, conn, {t.index: t.document_key for t in config.tables}, label)
        for table in config.tables:
            total = reader.count(table)
            converter = Converter(table, reader.columns(table))
            seen: set[str] = set()
            after, done = None, 0
            while True:
                rows = reader.rows_after(table, after, config.snapshot_batch)
                window = Window(config.name)
                for row in rows:
                    window.add(table, converter, RowChange(table.table, "upsert", row))
                changes = window.indexes.get(table.index)
                if changes is not None:
                    seen.update(k for k, d in changes.docs.items() if d is not None)
                done += len(rows)
                commit(db, None, window, f"{label} {table.table} {done}/{total}")
                progress(config.name, table.table, done, total)
                if len(rows) < config.snapshot_batch:
                    break
                after = rows[-1][table.primary_key]
            stale = _stale(db, table.index, seen)
            if stale:
                window = Window(config.name)
                for key in stale:
                    window.for_index(table).docs[key] = None
                commit(db, None, window, f"{label} {table.table} deletions")
            counts[table.table] = {"rows": done, "indexed": len(seen), "deleted": len(stale)}
    finally:
        reader.close()
    return counts


def _stale(db: Database, index: str, seen: set[str]) -> list[str]:
    """Ids in the index (or in tasks already committed for it) whose row is gone. Pending
    tasks of this run are still enqueued, so ids are compared with what was read."""
    with db.read() as conn:
        record = index_rows.get(conn, index)
        stored = doc_rows.all_ids(conn, record.id) if record is not None else []
    return [i for i in stored if i not in seen]
