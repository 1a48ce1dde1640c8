"""Sync source rows on SQLite and PostgreSQL: positions with compare-and-set, row errors."""

from __future__ import annotations

import pytest

from sift.storage import Database
from sift.storage import sources as source_rows
from sift.storage.database import utcnow
from sift.storage.sources import KEEP_ROW_ERRORS, RowError, SourceRecord, StalePosition


def test_a_position_is_saved_and_read_back(db: Database) -> None:
    record = SourceRecord("shop", "snapshot", {"file": "bin.000002", "pos": 4},
                          {"products": {"after": 10, "done": 10}}, {"rowsApplied": 10})  # fmt: skip
    with db.write() as conn:
        source_rows.save(conn, record)
    with db.read() as conn:
        found = source_rows.get(conn, "shop")
    assert found is not None
    assert (found.phase, found.position, found.snapshot) == (
        "snapshot", {"file": "bin.000002", "pos": 4}, {"products": {"after": 10, "done": 10}})
    assert found.version == record.version == 1


def test_a_writer_that_read_an_older_version_changes_nothing(db: Database) -> None:
    with db.write() as conn:
        source_rows.save(conn, SourceRecord("shop", "streaming", {"lsn": 1}))
    with db.read() as conn:
        first = source_rows.get(conn, "shop")
        second = source_rows.get(conn, "shop")
    assert first is not None and second is not None
    first.position = {"lsn": 2}
    with db.write() as conn:
        source_rows.save(conn, first)
    second.position = {"lsn": 3}
    with pytest.raises(StalePosition), db.write() as conn:
        source_rows.save(conn, second)
    with pytest.raises(StalePosition), db.write() as conn:
        source_rows.save(conn, SourceRecord("shop", "new"))  # a second "first" save
    with db.read() as conn:
        assert source_rows.get(conn, "shop").position == {"lsn": 2}  # type: ignore[union-attr]


def test_row_errors_keep_the_newest(db: Database) -> None:
    errors = [RowError("shop", "products", str(i), f"bad {i}", utcnow())
              for i in range(KEEP_ROW_ERRORS + 5)]  # fmt: skip
    with db.write() as conn:
        source_rows.add_row_errors(conn, errors)
        source_rows.add_row_errors(conn, [RowError("blog", "posts", None, "x", utcnow())])
    with db.read() as conn:
        assert source_rows.count_row_errors(conn, "shop") == KEEP_ROW_ERRORS
        newest = source_rows.row_errors(conn, "shop", limit=2)
        assert [e.key for e in newest] == [str(KEEP_ROW_ERRORS + 4), str(KEEP_ROW_ERRORS + 3)]
    with db.write() as conn:
        source_rows.delete(conn, "shop")
    with db.read() as conn:
        assert source_rows.count_row_errors(conn, "shop") == 0
        assert source_rows.count_row_errors(conn, "blog") == 1
