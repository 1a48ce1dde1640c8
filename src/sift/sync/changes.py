"""What a change reader yields, and the window that folds changes into document tasks.

Readers (mysql.py, postgres.py, triggers.py) yield `RowChange`, `Truncate` and
`SchemaChanged` events and, after the last change of each source transaction, a `Commit`
with the position to resume after it. The runner folds whole transactions into a
`Window`: per index, the newest version of each document wins (an insert then a delete
of one row leaves only the delete), so one commit turns any number of source changes into
at most three tasks per index, whose keys never overlap, so their order does not matter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sift.storage.database import utcnow
from sift.storage.sources import RowError as StoredRowError
from sift.sync.config import TableConfig
from sift.sync.convert import Converter, RowError


@dataclass
class RowChange:
    table: str  # TableConfig.table
    op: str  # "upsert" or "delete"
    row: dict[str, Any]


@dataclass
class Truncate:
    table: str


@dataclass
class SchemaChanged:
    """The table's columns changed (ALTER TABLE): converters must be rebuilt."""

    table: str


@dataclass
class Commit:
    position: dict[str, Any]
    at: float | None = None  # the source's commit time (epoch seconds), when it says
    received: float | None = None  # when the reader decoded it (epoch seconds)


Event = RowChange | Truncate | SchemaChanged | Commit


@dataclass
class IndexChanges:
    primary_key: str
    docs: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # None: delete
    partial: set[str] = field(default_factory=set)  # documents to merge, not replace
    cleared: bool = False  # TRUNCATE: every document goes first


@dataclass
class Window:
    """Changes folded since the last commit to Sift."""

    source: str
    indexes: dict[str, IndexChanges] = field(default_factory=dict)
    row_errors: list[StoredRowError] = field(default_factory=list)
    changes: int = 0  # source row changes folded in
    oldest_at: float | None = None  # source commit time of the oldest one

    def for_index(self, table: TableConfig) -> IndexChanges:
        found = self.indexes.get(table.index)
        if found is None:
            found = self.indexes[table.index] = IndexChanges(table.document_key)
        return found

    def error(self, table: str, key: str | None, message: str) -> None:
        self.row_errors.append(StoredRowError(self.source, table, key, message, utcnow()))

    def truncate(self, table: TableConfig) -> None:
        index = self.for_index(table)
        index.docs.clear()
        index.partial.clear()
        index.cleared = True
        self.changes += 1

    def add(self, table: TableConfig, converter: Converter, change: RowChange,
            passes: bool = True) -> None:  # fmt: skip
        """Fold one row change; `passes` is the table's `where` on the new row."""
        self.changes += 1
        try:
            key = converter.key_of(change.row)
        except RowError as error:
            self.error(table.table, None, str(error))
            return
        index = self.for_index(table)
        if change.op == "delete" or not passes or converter.deleted(change.row):
            index.docs[key] = None
            index.partial.discard(key)
            return
        try:
            doc = converter.document(change.row)  # the key was checked by key_of
        except RowError as error:
            self.error(table.table, key, str(error))
            return
        complete = len(doc) >= len(converter.fields)
        earlier = index.docs.get(key)
        if not complete and earlier is not None:
            index.docs[key] = {**earlier, **doc}  # still a whole document if the earlier was
            return
        index.docs[key] = doc
        if complete:
            index.partial.discard(key)
        else:
            index.partial.add(key)

    def note_time(self, at: float | None) -> None:
        if at is not None and (self.oldest_at is None or at < self.oldest_at):
            self.oldest_at = at

    def clear(self) -> None:
        self.indexes.clear()
        self.row_errors.clear()
        self.changes = 0
        self.oldest_at = None
