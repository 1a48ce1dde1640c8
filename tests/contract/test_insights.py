"""Click and conversion events: stored, joined to searches and reported alike on SQLite
and PostgreSQL (the report is SQL: EXISTS under SUM, HAVING)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sift.insights import Analytics, new_query_uid
from sift.storage import Database
from sift.storage.analytics import InsightEvent, Range
from sift.storage.database import utcnow


def _click(ts: datetime, query_uid: str, object_id: str, position: int) -> InsightEvent:
    return InsightEvent(ts, "click", "Clicked", "books", "u1", query_uid, object_id, "n", position)


def test_click_report_and_purge(db: Database) -> None:
    analytics = Analytics(db, retention_days=30)
    uids = [new_query_uid() for _ in range(3)]
    analytics.record("books", "dune", 2, 1, uids[0], "u1")
    analytics.record("books", "dune", 2, 1, uids[1], "u2")
    analytics.record("books", "emma", 1, 1, uids[2], "u1")
    analytics.record("books", "zzz", 0, 1, new_query_uid(), None)
    now = utcnow()
    analytics.record_event(_click(now, uids[0], "1", 0))
    analytics.record_event(_click(now, uids[0], "2", 3))
    analytics.record_event(
        InsightEvent(now, "conversion", "Bought", "books", "u1", uids[0], "1", None, None)
    )
    assert analytics.flush() == 7
    span = Range(now - timedelta(minutes=1), now + timedelta(minutes=1))
    report = analytics.clicks(span, limit=10)
    assert report["searches"] == 4 and report["clicks"] == 2 and report["conversions"] == 1
    assert report["clickThroughRate"] == round(1 / 3, 4)
    assert report["averageClickPosition"] == 2.5
    assert [d["objectId"] for d in report["topClickedDocuments"]] == ["1", "2"]
    assert report["queriesWithoutClicks"] == [{"query": "emma", "count": 1}]
    # A visitor's id is hashed alike for searches and events, by every node of the database.
    assert analytics.users.stored("u1") == Analytics(db, 30).users.stored("u1") != "u1"
    assert analytics.purge(now=now + timedelta(days=31)) == 7


def test_click_choices_count_a_user_once_per_query_and_document(db: Database) -> None:
    """The click model's read: a user repeating a click, in one search or many, is one
    choice (at the best position), clicks join their query text, other indexes and
    clicks without a search stay out."""
    from sift.storage.analytics import click_choices

    analytics = Analytics(db, retention_days=30, raw_user_ids=True)
    uids = [new_query_uid() for _ in range(4)]
    analytics.record("books", "Dune ", 2, 1, uids[0], "bot")
    analytics.record("books", "dune", 2, 1, uids[1], "bot")
    analytics.record("books", "dune", 2, 1, uids[2], "u2")
    analytics.record("films", "dune", 2, 1, uids[3], "u2")
    now = utcnow()

    def click(user: str, uid: str, oid: str, pos: int, index: str = "books") -> InsightEvent:
        return InsightEvent(now, "click", "Clicked", index, user, uid, oid, None, pos)

    for _ in range(50):
        analytics.record_event(click("bot", uids[0], "9", 5))
    analytics.record_event(click("bot", uids[1], "9", 3))
    analytics.record_event(click("u2", uids[2], "1", 0))
    analytics.record_event(click("u2", uids[3], "1", 0, index="films"))
    analytics.record_event(click("u2", new_query_uid(), "2", 1))  # no such search
    analytics.flush()
    with db.read() as conn:
        found = sorted(click_choices(conn, "books", now - timedelta(minutes=1)))
        later = click_choices(conn, "books", now + timedelta(minutes=1))
    assert found == [("bot", "dune", "9", 3), ("u2", "dune", "1", 0)]
    assert later == []


def test_impressions_are_stored_with_their_search_and_read_back_for_clicked_searches(
    db: Database,
) -> None:
    """What a search showed travels with the search log's batch and comes back, under the
    clicker's id, only for searches someone clicked."""
    from sift.insights.impressions import impressions
    from sift.storage.analytics import clicked_impressions

    analytics = Analytics(db, retention_days=30, raw_user_ids=True)
    uids = [new_query_uid() for _ in range(4)]
    analytics.record("books", "Dune", 3, 1, uids[0], "u1", ("3", "1", "2"))
    analytics.record("books", "dune", 3, 1, uids[1], None, ("1", "3"))  # no user header
    analytics.record("books", "dune", 3, 1, uids[2], "u3", ("1", "2"))  # nobody clicked
    analytics.record("books", "dune", 3, 1, uids[3], "u4")  # nothing shown recorded
    now = utcnow()
    for uid, user in ((uids[0], "u1"), (uids[1], "u2"), (uids[3], "u4")):
        analytics.record_event(replace(_click(now, uid, "1", 0), user_id=user))
    analytics.flush()
    with db.read() as conn:
        rows = sorted(clicked_impressions(conn, "books", now - timedelta(minutes=1)))
        assert clicked_impressions(conn, "films", now - timedelta(minutes=1)) == []
    assert rows == [("u1", "dune", '["3","1","2"]'), ("u2", "dune", '["1","3"]')]
    assert sorted(impressions(rows)) == [
        ("u1", "dune", "1", 1), ("u1", "dune", "2", 2), ("u1", "dune", "3", 0),
        ("u2", "dune", "1", 0), ("u2", "dune", "3", 1),
    ]  # fmt: skip


def test_a_visitors_id_is_stored_as_its_hmac_sha256(db: Database) -> None:
    """The stored id is HMAC-SHA256 of the id under the instance's secret, hex (what
    earlier versions stored, so a visitor's old and new rows still group together)."""
    import hashlib
    import hmac

    from sift.insights.events import UserIds
    from sift.insights.searches import user_secret

    users = Analytics(db, 30).users
    secret = user_secret(db)
    for user_id in ("u1", "visitor-42", "é" * 128, ""):
        expected = hmac.new(secret, user_id.encode(), hashlib.sha256).hexdigest()
        assert users.stored(user_id) == expected
    assert UserIds(secret).stored("u1") == users.stored("u1")  # a second instance alike
    assert users.stored(None) is None
