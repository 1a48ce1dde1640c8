"""API keys: actions, index patterns, expiry; keys derived from uid and master key.

Like Meilisearch, a key's value is HMAC-SHA256(master key, uid) in hex, so the
database never holds a usable secret and rotating the master key rotates every
key.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sift.storage import keys as key_rows
from sift.storage.database import Database, utcnow
from sift.storage.keys import KeyRecord

ACTIONS = (
    "*",
    "*.get",
    "search",
    "documents.*",
    "documents.add",
    "documents.get",
    "documents.delete",
    "indexes.*",
    "indexes.create",
    "indexes.get",
    "indexes.update",
    "indexes.delete",
    "indexes.swap",
    "indexes.compact",
    "tasks.*",
    "tasks.cancel",
    "tasks.delete",
    "tasks.get",
    "settings.*",
    "settings.get",
    "settings.update",
    "stats.*",
    "stats.get",
    "metrics.*",
    "metrics.get",
    "dumps.*",
    "dumps.create",
    "snapshots.*",
    "snapshots.create",
    "version",
    "keys.create",
    "keys.get",
    "keys.update",
    "keys.delete",
    "keys.*",
    "analytics.get",
    "analytics.*",
    "webhooks.get",
    "webhooks.create",
    "webhooks.update",
    "webhooks.delete",
    "webhooks.*",
    "sources.get",
    "sources.update",
    "sources.*",
    "experimental.get",
    "experimental.update",
    "experimental.*",
    "network.get",
    "network.update",
    "dynamicSearchRules.get",
    "dynamicSearchRules.create",
    "dynamicSearchRules.update",
    "dynamicSearchRules.delete",
    "dynamicSearchRules.*",
)

# Default keys in generations: each generation is created once, remembered under its meta
# marker, so a database made before a generation existed gains it at the next start, and a
# default key its owner deleted does not come back.
DEFAULT_KEYS: tuple[tuple[str, tuple[tuple[str, str, list[str]], ...]], ...] = (
    (
        "default_keys_created",
        (
            ("Default Search API Key", "Use it to search from the frontend", ["search"]),
            (
                "Default Admin API Key",
                "Use it for anything that is not a search operation. Caution! Do not expose it "
                "on a public frontend",
                ["*"],
            ),
        ),
    ),
    (
        "default_read_only_key_created",
        (
            (
                "Default Read-Only Admin API Key",
                "Use it to read information across the whole database. Caution! Do not expose "
                "this key on a public frontend",
                ["*.get", "keys.get"],
            ),
        ),
    ),
)


# How long a verified key is trusted without reading its row again. Every search with an
# API key paid a thread hop and a database read (+0.77 ms p50 through the ASGI app,
# `python -m benchmarks.auth_cost`); changes made through this process clear the cache at
# once, a key deleted through another node stops working here within this time.
KEY_CACHE_S = 1.0


def derive_key(master_key: str, uid: str) -> str:
    return hmac.new(master_key.encode(), uid.encode(), hashlib.sha256).hexdigest()


def action_allowed(granted: list[str], action: str) -> bool:
    if "*" in granted or action in granted:
        return True
    if "*.get" in granted and action.endswith(".get"):
        return True
    family = action.split(".", 1)[0]
    return f"{family}.*" in granted


def index_allowed(patterns: list[str], index_uid: str) -> bool:
    for pattern in patterns:
        if pattern == "*" or pattern == index_uid:
            return True
        if pattern.endswith("*") and index_uid.startswith(pattern[:-1]):
            return True
    return False


@dataclass(frozen=True)
class Principal:
    """Who is calling: the master key, an API key, or nobody (open instance)."""

    key: KeyRecord | None
    is_master: bool = False
    search_rules: dict[str, object] | None = None  # tenant token rules, by index pattern

    def can(self, action: str) -> bool:
        return self.key is None or action_allowed(self.key.actions, action)

    def can_index(self, index_uid: str) -> bool:
        return self.key is None or index_allowed(self.key.indexes, index_uid)

    def index_patterns(self) -> list[str] | None:
        """None means every index."""
        if self.key is None or "*" in self.key.indexes:
            return None
        return list(self.key.indexes)


class KeyStore:
    """Key records plus an in-memory map from key value to uid."""

    def __init__(self, db: Database, master_key: str | None) -> None:
        self.db = db
        self.master_key = master_key
        self._by_value: dict[str, str] = {}
        self._verified: dict[str, tuple[KeyRecord, float]] = {}  # value -> (record, when)
        self._lock = threading.Lock()

    def key_value(self, record: KeyRecord) -> str:
        assert self.master_key is not None
        return derive_key(self.master_key, record.uid)

    def ensure_defaults(self) -> None:
        """Create the default keys (search, admin, read-only admin) not created before."""
        with self.db.write() as conn:
            for marker, generation in DEFAULT_KEYS:
                if key_rows.get_meta(conn, marker) is not None:
                    continue
                now = utcnow()
                for name, description, actions in generation:
                    record = KeyRecord(
                        str(uuid.uuid4()), name, description, actions, ["*"], None, now, now
                    )
                    key_rows.insert(conn, record)
                key_rows.set_meta(conn, marker, now.isoformat())

    def refresh(self, forget_verified: bool = True) -> None:
        """Reload the key values. ``forget_verified=False`` keeps the keys verified in the
        last second that still exist: an unknown key (a typo, a guess) must not send every
        caller back to the database."""
        if self.master_key is None:
            return
        with self.db.read() as conn:
            records = key_rows.all_records(conn)
        with self._lock:
            self._by_value = by_value = {self.key_value(r): r.uid for r in records}
            if forget_verified:
                self._verified = {}
            else:
                self._verified = {v: hit for v, hit in self._verified.items() if v in by_value}

    def cached(self, value: str) -> KeyRecord | None:
        """The record of a key verified less than KEY_CACHE_S ago and not expired since,
        without I/O; None means "ask :meth:`lookup`", not "invalid"."""
        hit = self._verified.get(value)
        if hit is None or time.monotonic() - hit[1] > KEY_CACHE_S:
            return None
        record = hit[0]
        if record.expires_at is not None and record.expires_at <= utcnow():
            return None
        return record

    def lookup(self, value: str) -> KeyRecord | None:
        """The key record for a presented key value, if it exists and has not expired."""
        uid = self._by_value.get(value)
        if uid is None:
            self.refresh(forget_verified=False)  # another process may have created it
            uid = self._by_value.get(value)
            if uid is None:
                return None
        with self.db.read() as conn:
            record = key_rows.get(conn, uid)
        if record is None:
            return None
        if record.expires_at is not None and record.expires_at <= utcnow():
            return None
        self._verified[value] = (record, time.monotonic())
        return record

    def find(self, uid_or_key: str) -> KeyRecord | None:
        with self.db.read() as conn:
            record = key_rows.get(conn, uid_or_key)
        if record is None:
            uid = self._by_value.get(uid_or_key)
            if uid is None:
                self.refresh()
                uid = self._by_value.get(uid_or_key)
            if uid is not None:
                with self.db.read() as conn:
                    record = key_rows.get(conn, uid)
        return record


def parse_expiry(value: str) -> datetime:
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when
