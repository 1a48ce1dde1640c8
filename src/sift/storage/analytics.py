"""Search and click events: batched inserts, purging, and the reads behind the analytics API.

Grouping by time is done by the caller in Python, because truncating timestamps
is spelled differently in SQLite and PostgreSQL; counting by query is plain SQL.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sift.storage import bulk
from sift.storage.schema import insight_events, search_events


@dataclass(slots=True)
class SearchEvent:
    """One search, as the search log keeps it; not frozen, for InsightEvent's reason."""

    ts: datetime
    index_uid: str
    query: str
    hits: int
    processing_ms: int
    query_uid: str | None = None
    user_id: str | None = None
    shown: Sequence[str] | None = None  # the first page's ids, in order (impressions)


@dataclass(slots=True)
class InsightEvent:
    """A click or a conversion (`POST /events`); `user_id` as stored (hashed by default).
    Not frozen, though never changed: one is made on the event loop for every event, and
    a frozen dataclass's ``__init__`` (an ``object.__setattr__`` call per field) took five
    times a plain one's (issue #17)."""

    ts: datetime
    event_type: str
    event_name: str
    index_uid: str
    user_id: str
    query_uid: str | None
    object_id: str | None
    object_name: str | None
    position: int | None


@dataclass(frozen=True)
class Range:
    """Rows with start <= ts < end, on the given indexes (None: every index)."""

    start: datetime
    end: datetime
    indexes: Sequence[str] | None = None

    def where(self) -> sa.ColumnElement[bool]:
        clause = sa.and_(search_events.c.ts >= self.start, search_events.c.ts < self.end)
        if self.indexes is not None:
            clause = sa.and_(clause, search_events.c.index_uid.in_(list(self.indexes)))
        return clause


# How a visitor's id is stored (sift.insights.events.UserIds.stored): applied as the rows
# are built, one dict per event, rather than by copying each event first (a dataclass
# `replace` per event was most of a batch's cost, all of it holding the GIL).
StoredUser = Callable[[str | None], str | None]


# The columns each event fills, in the order its row tuple lists them (the id is the
# database's). Rows go through sift.storage.bulk: a few driver calls per batch instead of
# a step (and a GIL release) per event after SQLAlchemy's per-row work, half the CPU.
SEARCH_COLUMNS = ("ts", "index_uid", "query", "hits", "processing_ms", "query_uid", "user_id",
                  "shown")  # fmt: skip
INSIGHT_COLUMNS = ("ts", "event_type", "event_name", "index_uid", "user_id", "query_uid",
                   "object_id", "object_name", "position")  # fmt: skip


def insert_many(conn: Connection, events: Sequence[SearchEvent], user: StoredUser) -> None:
    bulk.append_rows(
        conn,
        search_events,
        SEARCH_COLUMNS,
        [
            (e.ts, e.index_uid, e.query, e.hits, e.processing_ms, e.query_uid,
             user(e.user_id), _shown_text(e.shown))
            for e in events
        ],
    )  # fmt: skip


def _shown_text(shown: Sequence[str] | None) -> str | None:
    return None if shown is None else json.dumps(list(shown), separators=(",", ":"))


# An event's values in INSIGHT_COLUMNS' order (its fields are named as the columns), read
# in one C call per event, and where the stored user id goes among them.
INSIGHT_VALUES = operator.attrgetter(*INSIGHT_COLUMNS)
INSIGHT_USER = INSIGHT_COLUMNS.index("user_id")


def insert_insights(conn: Connection, events: Sequence[InsightEvent], user: StoredUser) -> None:
    if not events:
        return
    # Column by column (as bulk binds them): only the user id is worked on per event.
    values = list(zip(*map(INSIGHT_VALUES, events), strict=True))
    values[INSIGHT_USER] = tuple([user(raw) or "" for raw in values[INSIGHT_USER]])
    bulk.append_columns(conn, insight_events, INSIGHT_COLUMNS, values)


def purge_before(conn: Connection, cutoff: datetime) -> int:
    purged = conn.execute(sa.delete(search_events).where(search_events.c.ts < cutoff)).rowcount
    return purged + conn.execute(
        sa.delete(insight_events).where(insight_events.c.ts < cutoff)
    ).rowcount


def times_and_hits(conn: Connection, span: Range) -> list[tuple[datetime, int, int]]:
    """(ts, hits, processing_ms) of every search in the range, oldest first."""
    stmt = (
        sa.select(search_events.c.ts, search_events.c.hits, search_events.c.processing_ms)
        .where(span.where())
        .order_by(search_events.c.ts)
    )
    return [(row.ts, row.hits, row.processing_ms) for row in conn.execute(stmt)]


def top_queries(
    conn: Connection, span: Range, limit: int, zero_only: bool = False
) -> list[tuple[str, int, float]]:
    """(query, searches, average hits), most frequent first."""
    count = sa.func.count().label("n")
    clause = span.where()
    if zero_only:
        clause = sa.and_(clause, search_events.c.hits == 0)
    stmt = (
        sa.select(search_events.c.query, count, sa.func.avg(search_events.c.hits).label("avg"))
        .where(clause)
        .group_by(search_events.c.query)
        .order_by(count.desc(), search_events.c.query)
        .limit(limit)
    )
    return [(row.query, int(row.n), float(row.avg or 0)) for row in conn.execute(stmt)]


def _insights_in(span: Range) -> sa.ColumnElement[bool]:
    clause = sa.and_(insight_events.c.ts >= span.start, insight_events.c.ts < span.end)
    if span.indexes is not None:
        clause = sa.and_(clause, insight_events.c.index_uid.in_(list(span.indexes)))
    return clause


@dataclass(frozen=True)
class ClickSummary:
    searches: int  # searches in the range that answered a query uid
    searches_with_results: int
    clicked_searches: int  # of those, the ones followed by at least one click
    converted_searches: int
    clicks: int
    conversions: int
    average_click_position: float | None  # 1-based, as dashboards show it


def click_summary(conn: Connection, span: Range) -> ClickSummary:
    """Counts behind click-through and conversion rates. A search counts once however
    many clicks followed it; events are joined to searches by query uid."""
    searched = sa.and_(span.where(), search_events.c.query_uid.is_not(None))
    searches, with_results = conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((search_events.c.hits > 0, 1), else_=0)), 0),
        ).where(searched)
    ).one()

    def followed_by(event_type: str) -> int:
        linked = sa.select(insight_events.c.query_uid).where(
            insight_events.c.event_type == event_type,
            insight_events.c.query_uid == search_events.c.query_uid,
        )
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(searched, sa.exists(linked))
            ).scalar_one()
        )

    in_span = _insights_in(span)
    clicks, conversions, avg_position = conn.execute(
        sa.select(
            sa.func.coalesce(
                sa.func.sum(sa.case((insight_events.c.event_type == "click", 1), else_=0)), 0
            ),
            sa.func.coalesce(
                sa.func.sum(sa.case((insight_events.c.event_type == "conversion", 1), else_=0)),
                0,
            ),
            sa.func.avg(
                sa.case(
                    (insight_events.c.event_type == "click", insight_events.c.position + 1),
                    else_=None,
                )
            ),
        ).where(in_span)
    ).one()
    return ClickSummary(
        int(searches),
        int(with_results),
        followed_by("click"),
        followed_by("conversion"),
        int(clicks),
        int(conversions),
        None if avg_position is None else float(avg_position),
    )


def top_clicked(conn: Connection, span: Range, limit: int) -> list[tuple[str, str, str, int]]:
    """(index uid, object id, a name it was sent with, clicks), most clicked first."""
    count = sa.func.count().label("n")
    stmt = (
        sa.select(
            insight_events.c.index_uid,
            insight_events.c.object_id,
            sa.func.max(insight_events.c.object_name).label("name"),
            count,
        )
        .where(
            _insights_in(span),
            insight_events.c.event_type == "click",
            insight_events.c.object_id.is_not(None),
        )
        .group_by(insight_events.c.index_uid, insight_events.c.object_id)
        .order_by(count.desc(), insight_events.c.index_uid, insight_events.c.object_id)
        .limit(limit)
    )
    return [(r.index_uid, r.object_id, r.name or "", int(r.n)) for r in conn.execute(stmt)]


def unclicked_queries(conn: Connection, span: Range, limit: int) -> list[tuple[str, int]]:
    """Queries that found results but none of whose searches was followed by a click,
    most frequent first: where the results look wrong to visitors."""
    clicked = sa.select(insight_events.c.query_uid).where(
        insight_events.c.event_type == "click",
        insight_events.c.query_uid == search_events.c.query_uid,
    )
    count = sa.func.count().label("n")
    was_clicked = sa.func.sum(sa.case((sa.exists(clicked), 1), else_=0))
    stmt = (
        sa.select(search_events.c.query, count)
        .where(
            span.where(),
            search_events.c.query_uid.is_not(None),
            search_events.c.hits > 0,
            search_events.c.query != "",
        )
        .group_by(search_events.c.query)
        .having(was_clicked == 0)
        .order_by(count.desc(), search_events.c.query)
        .limit(limit)
    )
    return [(r.query, int(r.n)) for r in conn.execute(stmt)]


def popular_queries(
    conn: Connection, index_uid: str, since: datetime, min_searches: int, limit: int
) -> list[tuple[str, int, int]]:
    """(query, searches, clicks) of the index's queries that found results since `since`,
    searched at least `min_searches` times, most searched first."""
    searches = sa.func.count(sa.distinct(search_events.c.id)).label("searches")
    clicks = sa.func.count(insight_events.c.id).label("clicks")
    joined = search_events.outerjoin(
        insight_events,
        sa.and_(
            insight_events.c.query_uid == search_events.c.query_uid,
            insight_events.c.event_type == "click",
        ),
    )
    stmt = (
        sa.select(search_events.c.query, searches, clicks)
        .select_from(joined)
        .where(
            search_events.c.index_uid == index_uid,
            search_events.c.ts >= since,
            search_events.c.hits > 0,
            search_events.c.query != "",
        )
        .group_by(search_events.c.query)
        .having(searches >= min_searches)
        .order_by(searches.desc(), search_events.c.query)
        .limit(limit)
    )
    return [(r.query, int(r.searches), int(r.clicks)) for r in conn.execute(stmt)]


def click_choices(
    conn: Connection, index_uid: str, since: datetime
) -> list[tuple[str, str, str, int]]:
    """(user, query, object id, position) of every document a user clicked for a query on
    the index since `since`: once per user, query and document however often it was
    clicked (a visitor or a bot repeating a click counts once), at the best position it
    was clicked at. Clicks join their search by query uid; those without one cannot tell
    which query they answer and are left out."""
    stmt = (
        sa.select(
            insight_events.c.user_id,
            search_events.c.query,
            insight_events.c.object_id,
            sa.func.min(insight_events.c.position).label("position"),
        )
        .select_from(
            insight_events.join(
                search_events, search_events.c.query_uid == insight_events.c.query_uid
            )
        )
        .where(
            insight_events.c.index_uid == index_uid,
            insight_events.c.event_type == "click",
            insight_events.c.ts >= since,
            insight_events.c.object_id.is_not(None),
            insight_events.c.position.is_not(None),
            search_events.c.index_uid == index_uid,
            search_events.c.query != "",
        )
        .group_by(insight_events.c.user_id, search_events.c.query, insight_events.c.object_id)
    )
    return [(r.user_id, r.query, r.object_id, int(r.position)) for r in conn.execute(stmt)]


def clicked_impressions(
    conn: Connection, index_uid: str, since: datetime
) -> list[tuple[str, str, str]]:
    """(user, query, shown ids as JSON) of every search on the index since `since` that
    recorded what it showed and was followed by a click: what the visitors who chose
    something had in front of them. Searches nobody clicked are left out (the model
    shares a query's clicks among what its clickers saw). Read from the clicks' side, so
    the cost follows the clicks in the window, not every search made in it."""
    stmt = (
        # The user is the clicker's (as click_choices counts them), whether or not the
        # search itself named one.
        sa.select(sa.func.min(insight_events.c.user_id).label("user_id"),
                  search_events.c.query, search_events.c.shown)
        .join(search_events, search_events.c.query_uid == insight_events.c.query_uid)
        .where(
            insight_events.c.index_uid == index_uid,
            insight_events.c.event_type == "click",
            insight_events.c.user_id.is_not(None),
            search_events.c.index_uid == index_uid,
            search_events.c.ts >= since,
            search_events.c.shown.is_not(None),
            search_events.c.query != "",
        )
        .group_by(search_events.c.id, search_events.c.query, search_events.c.shown)
    )  # fmt: skip
    return [(r.user_id, r.query, r.shown) for r in conn.execute(stmt)]
