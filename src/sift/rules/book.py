"""The rules every search on this node reads: loaded from SQL once per change.

Searches never read the database for rules. The rule set is loaded on first use and
kept until :meth:`RuleBook.invalidate` (called by the task worker once a batch holding a
rule task is committed, on the node that ran it and on every node that follows it; and
by ``PATCH /experimental-features`` for the switch). The ``dynamicSearchRules`` switch
is read again at most once a second, so turning it off on one node stops the rules on
every node sharing the database within a second.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sift.engine.curation import Curation
from sift.ops import experimental
from sift.rules.matching import RuleSet
from sift.storage import search_rules as rule_rows
from sift.storage.database import Database

FEATURE = "dynamicSearchRules"
SWITCH_TTL = 1.0  # seconds a read of the switch is trusted


class RuleBook:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._loading = threading.Lock()  # one load at a time: the others wait for it
        self._rules: RuleSet | None = None
        self._generation = 0
        self._switch: tuple[bool, float] = (False, float("-inf"))

    def enabled(self) -> bool:
        on, read_at = self._switch
        if time.monotonic() - read_at > SWITCH_TTL:
            on = experimental.enabled(self.db, FEATURE)
            self._switch = (on, time.monotonic())
        return on

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._rules = None
            self._switch = (False, float("-inf"))

    def rules(self) -> RuleSet:
        current = self._rules
        if current is not None:
            return current
        with self._loading:
            current = self._rules
            if current is not None:  # another search loaded them meanwhile
                return current
            with self._lock:
                generation = self._generation
            with self.db.read() as conn:
                loaded = RuleSet(rule_rows.all_rules(conn))
            with self._lock:
                # A change committed while loading: keep the result for this search only.
                if generation == self._generation:
                    self._rules = loaded
            return loaded

    def curation(self, index_uid: str, q: str | None, now: datetime | None = None
                 ) -> Curation | None:
        """What the matching rules do to a search of ``index_uid`` (None: nothing)."""
        if not self.enabled():
            return None
        found = self.rules().curation(index_uid, q, now or datetime.now(UTC))
        return found or None
