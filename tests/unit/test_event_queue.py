"""The queue of click and conversion events (`POST /events`): bounded without evicting
an acknowledged event, kept through a failed write, written on a graceful stop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from sift.errors import RateLimited
from sift.insights import Analytics
from sift.insights import searches as insights_module
from sift.storage import Database
from sift.storage.analytics import InsightEvent
from sift.storage.database import utcnow
from sift.storage.schema import insight_events


def _click(object_id: str) -> InsightEvent:
    return InsightEvent(utcnow(), "click", "Clicked", "books", "u1", None, object_id, None, 0)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/sift.db")
    database.migrate()
    yield database
    database.dispose()


def _stored(db: Database) -> list[str]:
    with db.read() as conn:
        query = sa.select(insight_events.c.object_id).order_by(insight_events.c.id)
        return list(conn.execute(query).scalars())


def test_a_full_queue_refuses_new_events_and_keeps_the_acknowledged_ones(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(insights_module, "BUFFER_LIMIT", 3)
    analytics = Analytics(db, retention_days=30)
    for object_id in "abc":
        analytics.record_event(_click(object_id))
    with pytest.raises(RateLimited) as refused:
        analytics.record_event(_click("d"))
    assert refused.value.code == "too_many_requests"
    assert analytics.flush() == 3
    assert _stored(db) == ["a", "b", "c"]  # the first ones, none evicted
    analytics.record_event(_click("d"))  # room again once written
    assert analytics.flush() == 1


def test_events_of_a_failed_write_are_written_by_the_next_one_in_order(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    analytics = Analytics(db, retention_days=30)
    analytics.record("books", "dune", 1, 1)
    analytics.record_event(_click("a"))
    real = insights_module.rows.insert_insights

    def down(*args: object) -> None:
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is down"))

    monkeypatch.setattr(insights_module.rows, "insert_insights", down)
    assert analytics.flush() == 0
    analytics.record_event(_click("b"))
    monkeypatch.setattr(insights_module.rows, "insert_insights", real)
    assert analytics.flush() == 2  # the search of the failed batch is dropped (best effort)
    assert _stored(db) == ["a", "b"]


def test_a_graceful_stop_writes_what_is_queued(db: Database) -> None:
    analytics = Analytics(db, retention_days=30)
    analytics.start()
    for object_id in "abc":
        analytics.record_event(_click(object_id))
    analytics.stop()
    assert _stored(db) == ["a", "b", "c"]
