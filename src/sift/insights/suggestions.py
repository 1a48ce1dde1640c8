"""Query suggestions: an index's popular queries that found results, with how often they
were searched and clicked, kept as the documents of a suggestions index that the ordinary
search API searches as you type (as Typesense's popular-queries rules do).

A rule names the index whose searches are read (`source`) and the index the suggestions go
to (`destination`). The node holding the worker lease refreshes every rule each
`interval` seconds through the task queue, as any client would write: the destination's
settings once, then the suggestions (replaced by id) and the deletion of those no longer
popular, so the index stays small (`maxQueries`) and fresh (`windowDays`).
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any, Protocol

import orjson

from sift.errors import SiftError
from sift.inputs import INDEX_UID, INDEX_UID_RULE, kind_of, shown
from sift.insights.periodic import PeriodicJob
from sift.storage import analytics as rows
from sift.storage import keys as meta_rows
from sift.storage.database import Database, utcnow

META_PREFIX = "query_suggestions:"
REFRESH_SECONDS = 60.0
# The destination's settings: suggestions match as typed (prefix and typos on `q`), the
# most searched first among equally good matches; `refreshedAt` lets old ones be deleted.
DESTINATION_SETTINGS: dict[str, Any] = {
    "searchableAttributes": ["q"],
    "displayedAttributes": ["q", "searches", "clicks"],
    "filterableAttributes": ["refreshedAt"],
    "sortableAttributes": ["searches", "clicks"],
    "rankingRules": ["words", "typo", "proximity", "exactness", "searches:desc", "clicks:desc"],
}
LIMITS = {"maxQueries": (1, 100_000), "minSearches": (1, 1_000_000), "windowDays": (1, 3650)}


@dataclass(frozen=True)
class SuggestionRule:
    source: str
    destination: str
    maxQueries: int = 1_000
    minSearches: int = 2
    windowDays: int = 30

    def view(self) -> dict[str, Any]:
        return asdict(self)


def parse_rule(source: str, body: dict[str, Any], current: SuggestionRule | None) -> SuggestionRule:
    """A rule from a PATCH body over the current one (or the defaults); every field checked,
    with `invalid_query_suggestions` naming the field."""
    allowed = ("destination", *LIMITS)
    for key in body:
        if key not in allowed:
            listed = ", ".join(f"`{a}`" for a in allowed)
            raise SiftError(
                f"Unknown field `{shown(key)}`: expected one of {listed}", "bad_request"
            )
    fields = asdict(current) if current else {"source": source}
    destination = body.get("destination", fields.get("destination"))
    if destination is None:
        raise SiftError("Missing field `destination`", "invalid_query_suggestions")
    if not isinstance(destination, str) or not INDEX_UID.fullmatch(destination):
        raise SiftError(
            f"Invalid value at `.destination`: `{shown(destination)}` is not a valid index "
            f"uid. {INDEX_UID_RULE}",
            "invalid_query_suggestions",
        )
    if destination == source:
        raise SiftError(
            "Invalid value at `.destination`: suggestions cannot go to the index they are "
            "made from",
            "invalid_query_suggestions",
        )
    fields["destination"] = destination
    for name, (low, high) in LIMITS.items():
        if name not in body:
            continue
        value = body[name]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise SiftError(
                f"Invalid value at `.{name}`: expected an integer from {low} to {high}, but "
                f"found {kind_of(value)}: `{shown(value)}`",
                "invalid_query_suggestions",
            )
        fields[name] = value
    return SuggestionRule(**fields)


def load_rules(db: Database) -> dict[str, SuggestionRule]:
    with db.read() as conn:
        found = meta_rows.all_meta(conn)
    return {
        key[len(META_PREFIX) :]: SuggestionRule(**orjson.loads(value))
        for key, value in found.items()
        if key.startswith(META_PREFIX)
    }


def save_rule(db: Database, rule: SuggestionRule | None, source: str) -> None:
    """Store a rule (None: delete the source's rule; its destination index stays)."""
    with db.write() as conn:
        if rule is None:
            meta_rows.delete_meta(conn, META_PREFIX + source)
        else:
            meta_rows.set_meta(conn, META_PREFIX + source, orjson.dumps(rule.view()).decode())


def suggestion_id(query: str) -> str:
    """A stable document id per query: the same query replaces its own suggestion."""
    return hashlib.sha256(query.encode()).hexdigest()[:24]


class Enqueue(Protocol):
    def enqueue(
        self,
        type: str,
        index_uid: str | None,
        details: dict[str, Any] | None,
        params: dict[str, Any] | None = None,
    ) -> Any: ...

    def enqueue_documents(
        self, index_uid: str, fh: io.BytesIO, fmt: str, params: dict[str, Any]
    ) -> Any: ...


class SuggestionsRefresher(PeriodicJob):
    """Refreshes every rule's destination from the search log, on the lease holder only."""

    name = "sift-suggestions"
    failure = "query suggestions were not refreshed"  # searches never depend on it

    def __init__(
        self,
        db: Database,
        tasks: Enqueue,
        leading: Callable[[], bool],
        interval: float = REFRESH_SECONDS,
        flush: Callable[[], object] = lambda: None,
    ) -> None:
        self.db = db
        self.tasks = tasks
        self.leading = leading
        self.interval = interval
        self.flush = flush  # the search log's buffer, written before it is read
        super().__init__()
        self._configured: set[tuple[str, str]] = set()  # destinations given their settings
        self._last_stamp = 0

    def run_once(self) -> None:
        if self.leading():
            self.refresh_all()

    def refresh_all(self) -> int:
        self.flush()
        return sum(self.refresh(rule) for rule in load_rules(self.db).values())

    def refresh(self, rule: SuggestionRule) -> int:
        """Enqueue the rule's current suggestions; returns how many."""
        # Milliseconds, and always past the last refresh: two refreshes in one second must
        # still tell the suggestions they keep from those they drop.
        stamp = self._last_stamp = max(int(time.time() * 1000), self._last_stamp + 1)
        since = utcnow() - timedelta(days=rule.windowDays)
        with self.db.read() as conn:
            popular = rows.popular_queries(
                conn, rule.source, since, rule.minSearches, rule.maxQueries
            )
        if (rule.source, rule.destination) not in self._configured:
            self.tasks.enqueue(
                "settingsUpdate",
                rule.destination,
                dict(DESTINATION_SETTINGS),
                {"settings": DESTINATION_SETTINGS},
            )
            self._configured.add((rule.source, rule.destination))
        if popular:
            body = b"".join(
                orjson.dumps(
                    {
                        "id": suggestion_id(query),
                        "q": query,
                        "searches": searches,
                        "clicks": clicks,
                        "refreshedAt": stamp,
                    }
                )
                + b"\n"
                for query, searches, clicks in popular
            )
            self.tasks.enqueue_documents(
                rule.destination,
                io.BytesIO(body),
                "ndjson",
                {"method": "replace", "primaryKey": "id"},
            )
        stale = f"refreshedAt < {stamp}"
        self.tasks.enqueue(
            "documentDeletion",
            rule.destination,
            {"providedIds": 0, "deletedDocuments": None, "originalFilter": f'"{stale}"'},
            {"filter": stale},
        )
        return len(popular)
