"""The naive UTC timestamps every stored row takes (sift/storage/database.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sift.storage.database import utcnow


def test_utcnow_is_the_naive_utc_clock_to_the_microsecond() -> None:
    before = datetime.now(UTC).replace(tzinfo=None)
    now = utcnow()
    after = datetime.now(UTC).replace(tzinfo=None)
    assert type(now) is datetime and now.tzinfo is None
    assert before <= now <= after
