"""Search analytics: record every search, click and conversion cheaply, report from SQL.

Recording must never slow down or fail a search, so :meth:`Analytics.record`
only appends to an in-memory buffer; a background thread writes the buffer to
the database in batches (one transaction per batch) and purges rows older than
the retention period. If the database is unavailable the searches of the batch are
dropped and logged: analytics are best effort, searches are not.

Clicks and conversions (`POST /events`) are acknowledged with a 201, so they are kept
instead: a batch that could not be written goes back to the front of their queue, and the
queue is bounded (`BUFFER_LIMIT`): when it is full, a new event is refused (429) rather
than an acknowledged one evicted. A graceful shutdown writes what is queued; a process
killed outright (SIGKILL, a crash) loses what it acknowledged in the last second at most
(`FLUSH_SECONDS`), as the search log does.
"""

from __future__ import annotations

import functools
import logging
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from sift.engine.query import normalise_query
from sift.errors import RateLimited
from sift.insights.events import UserIds
from sift.storage import analytics as rows
from sift.storage import keys as meta_rows
from sift.storage.analytics import InsightEvent, Range, SearchEvent
from sift.storage.database import Database, WriterBusy, utcnow

log = logging.getLogger("sift.insights")

BUFFER_LIMIT = 50_000  # searches beyond this drop the oldest; events beyond it are refused
FLUSH_SECONDS = 1.0
PURGE_SECONDS = 3600.0
REPORT_WAIT = 1.0  # seconds a report waits to store buffered events first
FLUSH_BATCH = 5_000  # events waiting that wake the writer before its next second
PERCENTILES = (50, 90, 95, 99)


def percentile(sorted_values: Sequence[int], p: float) -> int:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return int(sorted_values[rank - 1])


@dataclass(frozen=True)
class Bucket:
    start: datetime
    count: int
    zero_results: int
    latencies: tuple[int, ...]  # ascending

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": iso(self.start),
            "count": self.count,
            "zeroResults": self.zero_results,
            "p50": percentile(self.latencies, 50),
            "p95": percentile(self.latencies, 95),
        }


def iso(when: datetime) -> str:
    return when.replace(microsecond=0).isoformat() + "Z"


def pick_interval(span: Range) -> timedelta:
    """Hourly buckets up to three days, daily beyond."""
    return timedelta(hours=1) if span.end - span.start <= timedelta(days=3) else timedelta(days=1)


USER_SECRET_META = "insights_user_secret"


def user_secret(db: Database) -> bytes:
    """The instance's key for hashing visitors' ids, made once and shared by every node."""
    for _ in range(2):
        with db.read() as conn:
            found = meta_rows.get_meta(conn, USER_SECRET_META)
        if found is not None:
            return bytes.fromhex(found)
        try:
            with db.write() as conn:
                meta_rows.set_meta(conn, USER_SECRET_META, secrets.token_hex(32))
        except IntegrityError:  # another node made it first: read theirs
            continue
    with db.read() as conn:
        return bytes.fromhex(meta_rows.get_meta(conn, USER_SECRET_META) or "")


class Analytics:
    def __init__(
        self,
        db: Database,
        retention_days: int,
        enabled: bool = True,
        raw_user_ids: bool = False,
    ) -> None:
        self.db = db
        self.retention = timedelta(days=max(1, retention_days))
        self.enabled = enabled
        self.raw_user_ids = raw_user_ids
        self._users: UserIds | None = None
        self._buffer: deque[SearchEvent] = deque(maxlen=BUFFER_LIMIT)
        self._insights: deque[InsightEvent] = deque()  # bounded by record_event
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_purge = 0.0

    # -- recording ------------------------------------------------------------------

    @property
    def users(self) -> UserIds:
        """How visitors' ids are stored; the hashing key is read from the database once."""
        if self._users is None:
            self._users = UserIds(user_secret(self.db), raw=self.raw_user_ids)
        return self._users

    def record(
        self,
        index_uid: str,
        query: Any,
        hits: Any,
        processing_ms: Any,
        query_uid: str | None = None,
        user_id: str | None = None,
        shown: Sequence[str] | None = None,
    ) -> None:
        """Remember one search. O(1) on the search path (the user id is hashed and the
        shown ids encoded when the batch is written), never raises. ``shown``: the ids the
        search answered on its first page, in order (sift.insights.impressions)."""
        if not self.enabled:
            return
        try:
            event = SearchEvent(
                utcnow(),
                index_uid,
                normalise_query(query if isinstance(query, str) else ""),
                int(hits or 0),
                int(processing_ms or 0),
                query_uid,
                user_id,
                shown,
            )
            self._buffer.append(event)  # deque.append is atomic: no lock on the search path
        except Exception:  # analytics must never fail a search
            log.debug("search event dropped", exc_info=True)

    def record_event(self, event: InsightEvent) -> None:
        """Remember one click or conversion (already validated); written with the next
        batch. O(1) and never blocks: called on the event loop, which is the queue's one
        producer (so its length cannot grow between the check and the append)."""
        if len(self._insights) >= BUFFER_LIMIT:
            raise RateLimited(
                f"{BUFFER_LIMIT} click and conversion events are waiting to be stored "
                "(is the database reachable?).",
                FLUSH_SECONDS,
            )
        self._insights.append(event)
        if len(self._insights) >= FLUSH_BATCH:
            self._wake.set()

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="sift-analytics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping.set()
            self._wake.set()
            self._thread.join(timeout=10)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            self.flush()
            if time.monotonic() - self._last_purge > PURGE_SECONDS:
                self.purge()

    def flush(self, wait: float | None = None) -> int:
        """Write buffered events; returns how many were written (0 when dropped).
        ``wait``: give up after that many seconds if the database's writer is busy (a
        long batch on SQLite) and keep the events for the next flush."""
        with self._flush_lock:
            if not self._buffer and not self._insights:
                return 0
            insights: list[InsightEvent] = []
            try:
                users = self.users  # before the write: it may write the hashing key
                with self.db.write(wait) as conn:
                    batch: list[SearchEvent] = []
                    while self._buffer:
                        batch.append(self._buffer.popleft())
                    while self._insights:
                        insights.append(self._insights.popleft())
                    # A visitor sends many events: each id is hashed once per batch.
                    stored = functools.lru_cache(maxsize=None)(users.stored)
                    rows.insert_many(conn, batch, stored)
                    rows.insert_insights(conn, insights, stored)
            except WriterBusy:
                return 0  # still buffered (the buffers are taken only once the writer is ours)
            except Exception:
                log.warning("could not store buffered search and click events", exc_info=True)
                # Acknowledged: tried again. Events sent meanwhile were counted against the bound
                # without these, so the queue holds at most twice BUFFER_LIMIT.
                self._insights.extendleft(reversed(insights))
                return 0
            return len(batch) + len(insights)

    def _settle(self) -> None:
        """Before a report: store what is buffered, unless that means waiting on a long
        batch; the report then answers from what is stored (at most a moment behind)."""
        self.flush(wait=REPORT_WAIT)

    def purge(self, now: datetime | None = None) -> int:
        self._last_purge = time.monotonic()
        try:
            with self.db.write() as conn:
                return rows.purge_before(conn, (now or utcnow()) - self.retention)
        except Exception:
            log.warning("could not purge old search events", exc_info=True)
            return 0

    # -- reporting ------------------------------------------------------------------

    def buckets(self, span: Range, interval: timedelta | None = None) -> list[Bucket]:
        """Every bucket of the range, empty ones included, so charts have no gaps."""
        self._settle()
        step = interval or pick_interval(span)
        with self.db.read() as conn:
            events = rows.times_and_hits(conn, span)
        origin = floor_time(span.start, step)
        count = max(1, math.ceil((span.end - origin) / step))
        counts = [0] * count
        zeros = [0] * count
        latencies: list[list[int]] = [[] for _ in range(count)]
        for ts, hits, ms in events:
            slot = min(count - 1, int((ts - origin) / step))
            counts[slot] += 1
            zeros[slot] += hits == 0
            latencies[slot].append(ms)
        return [
            Bucket(origin + i * step, counts[i], zeros[i], tuple(sorted(latencies[i])))
            for i in range(count)
        ]

    def latency(self, span: Range) -> dict[str, Any]:
        buckets = self.buckets(span)
        values = sorted(v for b in buckets for v in b.latencies)
        summary: dict[str, Any] = {"count": len(values)}
        for p in PERCENTILES:
            summary[f"p{p}"] = percentile(values, p)
        summary["max"] = values[-1] if values else 0
        summary["buckets"] = [b.as_dict() for b in buckets]
        return summary

    def top(self, span: Range, limit: int, zero_only: bool = False) -> list[dict[str, Any]]:
        self._settle()
        with self.db.read() as conn:
            found = rows.top_queries(conn, span, limit, zero_only)
        if zero_only:
            return [{"query": q, "count": n} for q, n, _ in found]
        return [{"query": q, "count": n, "averageHits": round(avg, 1)} for q, n, avg in found]

    def clicks(self, span: Range, limit: int) -> dict[str, Any]:
        """Click-through and conversion rates, average click position, the most clicked
        documents and the queries whose results nobody clicked, over the range."""
        self._settle()
        with self.db.read() as conn:
            summary = rows.click_summary(conn, span)
            top = rows.top_clicked(conn, span, limit)
            unclicked = rows.unclicked_queries(conn, span, limit)

        def rate(part: int, whole: int) -> float | None:
            return None if whole == 0 else round(part / whole, 4)

        position = summary.average_click_position
        return {
            "searches": summary.searches,
            "clicks": summary.clicks,
            "conversions": summary.conversions,
            "clickThroughRate": rate(summary.clicked_searches, summary.searches_with_results),
            "conversionRate": rate(summary.converted_searches, summary.searches_with_results),
            "averageClickPosition": None if position is None else round(position, 2),
            "topClickedDocuments": [
                {"indexUid": index, "objectId": oid, "objectName": name, "clicks": n}
                for index, oid, name, n in top
            ],
            "queriesWithoutClicks": [{"query": q, "count": n} for q, n in unclicked],
        }


def floor_time(when: datetime, step: timedelta) -> datetime:
    if step >= timedelta(days=1):
        return when.replace(hour=0, minute=0, second=0, microsecond=0)
    return when.replace(minute=0, second=0, microsecond=0)
