"""Batches of rows written with a few driver calls (sift.storage.bulk) store exactly what
SQLAlchemy's own insert stores, in order, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
import sqlalchemy as sa

from sift.storage import Database, bulk
from sift.storage.analytics import INSIGHT_COLUMNS, InsightEvent, insert_insights
from sift.storage.schema import insight_events


def _rows(name: str, count: int) -> list[tuple[object, ...]]:
    """Values that a driver could write differently: whole seconds (SQLite's text drops the
    microseconds unless told), None, quotes, non-ASCII text, the largest position."""
    return [
        (
            datetime(2026, 12, 6, 12, 0, i % 60, 0 if i % 2 else 123_456),
            "click" if i % 3 else "conversion",
            name,
            "books",
            f"user 'é' \"{i}\"",
            None if i % 4 else "0190a0b1-0000-7000-8000-000000000000",
            None if i % 5 == 0 else str(i),
            "Ünïcode, comma\ttab\nline \\ backslash" if i % 2 else None,
            None if i % 7 == 0 else 2**31 - 1 - i,
        )
        for i in range(count)
    ]


def _stored(db: Database, name: str) -> list[tuple[object, ...]]:
    """The stored values as the database hands them to its driver (SQLite's timestamps as
    their text), oldest id first, without the id."""
    with db.read() as conn:
        found = conn.exec_driver_sql(
            "SELECT ts, event_type, event_name, index_uid, user_id, query_uid, object_id, "
            "object_name, position FROM insight_events WHERE event_name = "
            + ("?" if db.is_sqlite else "%s")
            + " ORDER BY id",
            (name,),
        ).all()
    return [tuple(row)[:2] + tuple(row)[3:] for row in found]


def test_appended_rows_are_what_sqlalchemys_insert_stores_in_order(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "MAX_CHUNK_ROWS", 4)  # 11 rows: statements of 4, 4, 2 and 1
    with db.write() as conn:
        conn.execute(
            sa.insert(insight_events),
            [dict(zip(INSIGHT_COLUMNS, row, strict=True)) for row in _rows("sqlalchemy", 11)],
        )
        bulk.append_rows(conn, insight_events, INSIGHT_COLUMNS, _rows("bulk", 11))
    expected = _stored(db, "sqlalchemy")
    assert len(expected) == 11
    assert _stored(db, "bulk") == expected


def test_a_failed_batch_leaves_nothing_of_itself(db: Database) -> None:
    """Within the caller's transaction: a row the database refuses rolls the batch back."""
    rows = _rows("refused", 3)
    rows[2] = (*rows[2][:3], None, *rows[2][4:])  # index_uid is NOT NULL
    with pytest.raises(Exception), db.write() as conn:  # noqa: B017 (each driver's own error)
        bulk.append_rows(conn, insight_events, INSIGHT_COLUMNS, rows)
    assert _stored(db, "refused") == []


@contextmanager
def _statements(db: Database, conn: sa.Connection) -> Iterator[list[str]]:
    """What the transaction's driver connection sends: SQLite's statements as they run (one
    per row under executemany), PostgreSQL's protocol messages (libpq's trace)."""
    driver = conn.connection.driver_connection
    seen: list[str] = []
    if db.is_sqlite:
        driver.set_trace_callback(seen.append)  # type: ignore[union-attr]
        try:
            yield seen
        finally:
            driver.set_trace_callback(None)  # type: ignore[union-attr]
        return
    import psycopg

    with tempfile.TemporaryFile() as trace:
        driver.pgconn.trace(trace.fileno())  # type: ignore[union-attr]
        driver.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)  # type: ignore[union-attr]
        try:
            yield seen
        finally:
            driver.pgconn.untrace()  # type: ignore[union-attr]
            trace.seek(0, os.SEEK_SET)
            seen.extend(trace.read().decode().splitlines())


def test_a_batch_of_events_takes_a_few_statements_not_one_per_event(db: Database) -> None:
    when = datetime(2026, 12, 6)
    events = [
        InsightEvent(when, "click", "Clicked", "books", f"u{i}", None, str(i), None, i)
        for i in range(100)
    ]
    with db.write() as conn, _statements(db, conn) as seen:
        insert_insights(conn, events, lambda user: user)
    if db.is_sqlite:
        inserts = [s for s in seen if s.startswith("INSERT")]
        assert len(inserts) == len(bulk.chunk_sizes(100, bulk.MAX_CHUNK_ROWS)) == 3  # 64, 32, 4
    else:
        sent = [line.split("\t")[2] for line in seen if line.startswith("F\t")]
        assert "Execute" not in sent and sent.count("CopyData") >= 1
        assert any('"COPY 100"' in line for line in seen)
    with db.read() as conn:
        stored = conn.execute(sa.select(insight_events.c.object_id).order_by(insight_events.c.id))
        assert list(stored.scalars()) == [str(i) for i in range(100)]
