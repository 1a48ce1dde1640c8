"""What sift.storage.bulk binds: SQLAlchemy's own text for SQLite's timestamps, taken from
`datetime.isoformat` only where that text is the same."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from sift.storage import bulk


def _processor(column_type: sa.types.TypeEngine[object]) -> object:
    dialect = sqlite.dialect()
    return column_type.dialect_impl(dialect).bind_processor(dialect)


def test_naive_datetimes_bind_as_sqlalchemys_sqlite_text() -> None:
    process = _processor(sa.DateTime())
    start = datetime(2026, 12, 7, 9, 30, 0)
    values = tuple(start + timedelta(microseconds=7_919 * i) for i in range(500))
    values += (datetime(1, 1, 1), datetime(987, 6, 5, 4, 3, 2, 1),
               datetime(9999, 12, 31, 23, 59, 59))  # fmt: skip
    assert any(v.microsecond == 0 for v in values)  # SQLite's text still writes them
    assert bulk._bound(process, values) == tuple(map(process, values))  # type: ignore[arg-type]


def test_other_values_keep_the_processor() -> None:
    process = _processor(sa.DateTime())
    aware = (datetime(2026, 12, 7, 9, 30, tzinfo=UTC), datetime(2026, 12, 7, 9, 31))
    mixed = (datetime(2026, 12, 7, 9, 30), None, date(2026, 12, 7))
    for values in (aware, mixed):
        assert bulk._bound(process, values) == tuple(map(process, values))  # type: ignore[arg-type]


def test_a_processor_writing_another_text_keeps_its_own() -> None:
    process = _processor(sqlite.DATETIME(storage_format="%(year)04d/%(month)02d/%(day)02d"))
    values = (datetime(2026, 12, 7, 9, 30), datetime(2026, 12, 8))
    assert bulk._bound(process, values) == ("2026/12/07", "2026/12/08")  # type: ignore[arg-type]
